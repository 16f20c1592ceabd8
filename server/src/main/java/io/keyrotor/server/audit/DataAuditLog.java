package io.keyrotor.server.audit;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import io.keyrotor.api.v1.DataAuditRecord;
import io.keyrotor.storage.StateDigest;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's data audit log: an append-only file of {@link DataAuditRecord}s (length-delimited
 * protobuf), hash-chained (each record's hash is SHA-256 over the previous hash and the record
 * without its hash), written by one writer thread with group commit: callers {@link #append} a
 * record and get a future, the writer takes what waits (up to {@value #MAX_BATCH}), writes it in
 * one write, syncs it once, then hands the batch's futures to a small pool of its own, which
 * completes them (and so runs what each caller chained on its future: typically the gRPC reply)
 * while the writer goes on with the next batch. Nothing is acknowledged before it is durable.
 *
 * <p>The queue is bounded ({@code audit.data.queue-capacity}): a record that does not fit fails at
 * once, as does every record of a batch that could not be written (the file is cut back to where
 * the batch began, so the chain on disk never holds a half batch). If even that fails, the log
 * stays broken and refuses every later record until the node restarts. Whether such a failure fails
 * the call is the caller's choice ({@code audit.data.failure-mode}).
 *
 * <p>At open, the file is read to find the sequence and head to go on from; a torn record at the
 * end (a crash during a write that was never acknowledged) is cut off.
 */
public final class DataAuditLog implements AutoCloseable {
  /** Most records written and synced together. */
  static final int MAX_BATCH = 1_024;

  /** Most callers' futures one acknowledging task completes. */
  private static final int ACK_CHUNK = 32;

  /** Threads that complete callers' futures, so the writer never runs their continuations. */
  private static final int ACK_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());

  /** Every this many records, the file offset of one is kept to start reads near a cursor. */
  private static final int INDEX_EVERY = 1_024;

  /** The hash before the first record: 32 zero bytes. */
  public static final ByteString GENESIS = ByteString.copyFrom(new byte[32]);

  private static final Logger LOG = LoggerFactory.getLogger(DataAuditLog.class);

  /** A record that could not be written; the message says why. */
  public static final class Unavailable extends IOException {
    private static final long serialVersionUID = 1L;

    Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private record Pending(DataAuditRecord.Builder record, CompletableFuture<Void> written) {}

  private final Path path;
  private final String node;
  private final AuditFile file;
  private final BlockingQueue<Pending> queue;
  private final Consumer<DataAuditRecord> listener;
  private final Thread writer;
  private final ExecutorService acknowledgements;
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong refusedFull = new AtomicLong();

  /** Sequence -> file offset of every {@value #INDEX_EVERY}th record. */
  private final Map<Long, Long> offsets = new ConcurrentSkipListMap<>();

  /** The last durable record's sequence and hash, read together. */
  public record Head(long sequence, ByteString hash) {}

  private volatile Head last;

  /** Bytes of whole, synced records: what readers read up to. Set by the writer only. */
  private volatile long durableSize;

  /** The writer's own copy of {@link #durableSize}. */
  private long writtenSize;

  private volatile IOException broken;
  private volatile boolean closed;

  private DataAuditLog(
      Path path,
      String node,
      AuditFile file,
      int queueCapacity,
      Consumer<DataAuditRecord> listener,
      IOException brokenOrNull)
      throws IOException {
    this.path = path;
    this.node = node;
    this.file = file;
    this.queue = new ArrayBlockingQueue<>(queueCapacity);
    this.listener = listener;
    this.broken = brokenOrNull;
    if (brokenOrNull == null) {
      recover();
    } else {
      this.last = new Head(0, GENESIS);
    }
    // Unbounded queue, bounded work: every task completes futures of records the bounded queue
    // admitted, so there are never more than queueCapacity of them waiting.
    AtomicLong ackThreads = new AtomicLong();
    this.acknowledgements =
        Executors.newFixedThreadPool(
            ACK_THREADS,
            task -> {
              Thread thread =
                  new Thread(task, "data-audit-ack-" + node + "-" + ackThreads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    this.writer = new Thread(this::run, "data-audit-writer-" + node);
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Opens (or creates, 0600) the log file {@code path} of node {@code node}.
   *
   * @param listener told about every record once it is durable (the sinks), on the writer thread:
   *     it must not block; what it throws is logged
   */
  public static DataAuditLog open(
      Path path, String node, int queueCapacity, Consumer<DataAuditRecord> listener)
      throws IOException {
    return new DataAuditLog(path, node, AuditFile.open(path), queueCapacity, listener, null);
  }

  /**
   * A log that could not be opened ({@code failure}): it refuses every record with the reason, so
   * the node still starts and its calls fail or go on as {@code audit.data.failure-mode} says.
   */
  public static DataAuditLog unopened(Path path, String node, IOException failure) {
    try {
      return new DataAuditLog(path, node, AuditFile.closed(failure), 1, record -> {}, failure);
    } catch (IOException e) {
      throw new IllegalStateException("an unopened log reads nothing", e);
    }
  }

  /** A log over {@code file} (tests: a file whose writes fail). */
  static DataAuditLog over(
      Path path, String node, AuditFile file, int queueCapacity, Consumer<DataAuditRecord> listener)
      throws IOException {
    return new DataAuditLog(path, node, file, queueCapacity, listener, null);
  }

  /** Reads the file to its last whole record; cuts off a torn one. */
  private void recover() throws IOException {
    long size = file.size();
    long good = 0;
    long lastSequence = 0;
    ByteString lastHash = GENESIS;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      while (good < size) {
        DataAuditRecord record;
        try {
          int length = coded.readRawVarint32();
          record = DataAuditRecord.parseFrom(coded.readRawBytes(length));
        } catch (IOException torn) {
          break;
        }
        long after = good + coded.getTotalBytesRead();
        coded.resetSizeCounter();
        if (after > size) {
          break;
        }
        if (record.getSequence() % INDEX_EVERY == 1) {
          offsets.put(record.getSequence(), good);
        }
        lastSequence = record.getSequence();
        lastHash = record.getHash();
        good = after;
      }
    }
    if (good < size) {
      LOG.warn(
          "The data audit log {} ends in a torn record ({} bytes after record {}); cutting it off",
          path,
          size - good,
          lastSequence);
      file.truncate(good);
    }
    this.last = new Head(lastSequence, lastHash);
    this.durableSize = good;
    this.writtenSize = good;
  }

  /**
   * Queues {@code record} (node, sequence and hashes are filled in here) and returns a future that
   * completes once it is durable, or fails with {@link Unavailable} when the queue is full or the
   * write fails. Never blocks.
   */
  public CompletableFuture<Void> append(DataAuditRecord.Builder record) {
    IOException brokenNow = broken;
    if (closed || brokenNow != null) {
      failures.incrementAndGet();
      return CompletableFuture.failedFuture(
          new Unavailable(
              closed
                  ? "the data audit log is closed"
                  : "the data audit log cannot be written: " + brokenNow.getMessage(),
              brokenNow));
    }
    Pending pending = new Pending(record, new CompletableFuture<>());
    if (!queue.offer(pending)) {
      refusedFull.incrementAndGet();
      return CompletableFuture.failedFuture(
          new Unavailable(
              "the data audit log's queue is full ("
                  + (queue.size() + queue.remainingCapacity())
                  + " records wait for the disk)",
              null));
    }
    return pending.written();
  }

  private void run() {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    while (!closed || !queue.isEmpty()) {
      try {
        Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
      } catch (InterruptedException e) {
        break;
      }
      queue.drainTo(batch, MAX_BATCH - 1);
      write(batch);
      batch.clear();
    }
    Unavailable closing = new Unavailable("the data audit log is closed", null);
    Pending left;
    while ((left = queue.poll()) != null) {
      left.written().completeExceptionally(closing);
    }
  }

  /** Writes, syncs and acknowledges one batch, or fails all of it. */
  private void write(List<Pending> batch) {
    if (broken != null) {
      fail(batch, new Unavailable("the data audit log cannot be written", broken));
      return;
    }
    long next = last.sequence();
    ByteString previous = last.hash();
    List<DataAuditRecord> records = new ArrayList<>(batch.size());
    List<Long> batchOffsets = new ArrayList<>(batch.size());
    ByteArrayOutputStream out = new ByteArrayOutputStream(batch.size() * 160);
    MessageDigest sha = StateDigest.sha256();
    try {
      for (Pending pending : batch) {
        next++;
        DataAuditRecord unsigned =
            pending
                .record()
                .setSequence(next)
                .setNode(node)
                .setPreviousHash(previous)
                .clearHash()
                .build();
        sha.reset();
        sha.update(previous.toByteArray());
        sha.update(unsigned.toByteArray());
        previous = ByteString.copyFrom(sha.digest());
        DataAuditRecord record = unsigned.toBuilder().setHash(previous).build();
        batchOffsets.add(writtenSize + out.size());
        record.writeDelimitedTo(out);
        records.add(record);
      }
      file.append(ByteBuffer.wrap(out.toByteArray()));
      file.sync();
    } catch (IOException e) {
      try {
        file.truncate(writtenSize);
      } catch (IOException | RuntimeException cut) {
        broken = e;
        LOG.error(
            "The data audit log {} failed a write and could not be cut back ({}); it refuses every"
                + " record until the node restarts",
            path,
            cut.toString());
      }
      fail(batch, new Unavailable("the data audit log could not be written: " + e, e));
      return;
    } catch (RuntimeException e) {
      fail(batch, new Unavailable("the data audit log could not be written: " + e, null));
      return;
    }
    for (int i = 0; i < records.size(); i++) {
      long s = records.get(i).getSequence();
      if (s % INDEX_EVERY == 1) {
        offsets.put(s, batchOffsets.get(i));
      }
    }
    writtenSize += out.size();
    durableSize = writtenSize;
    last = new Head(next, previous);
    acknowledge(List.copyOf(batch), null);
    for (DataAuditRecord record : records) {
      try {
        listener.accept(record);
      } catch (RuntimeException e) {
        LOG.warn("An audit sink failed on data audit record {}: {}", record.getSequence(), e);
      }
    }
  }

  private void fail(List<Pending> batch, Unavailable failure) {
    failures.addAndGet(batch.size());
    acknowledge(List.copyOf(batch), failure);
  }

  /**
   * Completes {@code batch}'s futures ({@code failureOrNull}: with it) on the acknowledging pool,
   * in chunks of {@value #ACK_CHUNK}, so callers' continuations run in parallel and off the writer;
   * on the writer itself once the pool is shut down (at close).
   */
  private void acknowledge(List<Pending> batch, Unavailable failureOrNull) {
    for (int from = 0; from < batch.size(); from += ACK_CHUNK) {
      List<Pending> chunk = batch.subList(from, Math.min(batch.size(), from + ACK_CHUNK));
      Runnable complete =
          () -> {
            for (Pending pending : chunk) {
              if (failureOrNull == null) {
                pending.written().complete(null);
              } else {
                pending.written().completeExceptionally(failureOrNull);
              }
            }
          };
      try {
        acknowledgements.execute(complete);
      } catch (RejectedExecutionException closing) {
        complete.run();
      }
    }
  }

  /** The last durable record's sequence and hash (0 and {@link #GENESIS} before the first). */
  public Head head() {
    return last;
  }

  /** Records that could not be written (their calls failed, or were answered when open). */
  public long failures() {
    return failures.get();
  }

  /** Records refused because the queue was full. */
  public long refusedFull() {
    return refusedFull.get();
  }

  /** Records waiting for the writer. */
  public int queued() {
    return queue.size();
  }

  /**
   * The durable records after sequence {@code afterSequence} that {@code filter} keeps, oldest
   * first, at most {@code limit}; reads from the file, starting near the cursor. Any thread.
   */
  public List<DataAuditRecord> read(
      long afterSequence, int limit, Predicate<DataAuditRecord> filter) throws IOException {
    if (durableSize == 0) {
      return List.of();
    }
    long end = durableSize;
    long start = 0;
    for (Map.Entry<Long, Long> e : offsets.entrySet()) {
      if (e.getKey() > afterSequence + 1) {
        break;
      }
      start = e.getValue();
    }
    List<DataAuditRecord> out = new ArrayList<>();
    try (InputStream raw = Files.newInputStream(path)) {
      raw.skipNBytes(start);
      CodedInputStream coded = CodedInputStream.newInstance(new BufferedInputStream(raw));
      long position = start;
      while (position < end && out.size() < limit) {
        int length = coded.readRawVarint32();
        DataAuditRecord record = DataAuditRecord.parseFrom(coded.readRawBytes(length));
        position += coded.getTotalBytesRead();
        coded.resetSizeCounter();
        if (record.getSequence() > afterSequence && filter.test(record)) {
          out.add(record);
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    closed = true; // the writer drains what waits, then stops (it polls, never interrupted)
    try {
      writer.join(5_000);
      acknowledgements.shutdown();
      if (!acknowledgements.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("The data audit log {} closed with acknowledgements still running", path);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      file.close();
    } catch (IOException e) {
      LOG.warn("Could not close the data audit log {}: {}", path, e.toString());
    }
  }
}
