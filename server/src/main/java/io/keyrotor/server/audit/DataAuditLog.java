package io.keyrotor.server.audit;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.DataAuditRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's data audit log: an append-only file of {@link DataAuditRecord}s (length-delimited
 * protobuf), hash-chained (each record's hash is SHA-256 over the previous hash and the record
 * without its hash), written with group commit in a pipeline:
 *
 * <ul>
 *   <li>callers {@link #append} a record and get a future;
 *   <li>one writer thread takes what waits (up to {@value #MAX_BATCH}), chains it and writes it in
 *       one write, and goes on with the next batch at once, without waiting for a sync;
 *   <li>sync threads ({@code audit.data.sync-threads}) each sync everything written so far
 *       (fdatasync) whenever something was written that no sync has yet started on, so records
 *       written during a sync are covered by the next one, which starts as soon as a sync thread is
 *       free;
 *   <li>when a sync returns, every batch written before it started is durable: in order, each
 *       batch's callers are handed to a small pool of the log's own, which completes their futures
 *       (and so runs what each caller chained: typically the gRPC reply).
 * </ul>
 *
 * Nothing is acknowledged before a sync that covers it has returned, and records reach the file,
 * the sinks and the callers in sequence order.
 *
 * <p>{@code audit.data.queue-capacity} bounds the records not yet acknowledged (waiting for the
 * writer or for a sync): one that does not fit fails at once. A batch whose write fails fails (the
 * file is cut back to where it began); a sync that fails fails every record not yet durable (the
 * file is cut back to the last durable record, and the chain goes on from there). If the file
 * cannot be cut back, the log stays broken and refuses every later record until the node restarts.
 * Whether such a failure fails the call is the caller's choice ({@code audit.data.failure-mode}).
 *
 * <p>At open, the file is read to find the sequence and head to go on from; what follows the last
 * whole record (a torn record of a batch never acknowledged, or the zeros of the preallocated tail:
 * {@link AuditFile}) is cut off.
 *
 * <p>About 540 lines: the writer, the sync threads and the state they share are one protocol, read
 * and checked in one place.
 */
public final class DataAuditLog implements AutoCloseable {
  /** Most records written together. */
  static final int MAX_BATCH = 1_024;

  /** Most callers' futures one acknowledging task completes. */
  private static final int ACK_CHUNK = 32;

  /** Threads that complete callers' futures, so the log's threads never run their continuations. */
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

  /**
   * How the log writes its file.
   *
   * @param queueCapacity most records not yet acknowledged ({@code audit.data.queue-capacity})
   * @param preallocateBytes the chunk the file is extended by with zeros ahead of the records
   *     ({@code audit.data.preallocate-bytes}; 0 for none)
   * @param syncThreads most syncs running at once ({@code audit.data.sync-threads})
   */
  public record Options(int queueCapacity, long preallocateBytes, int syncThreads) {
    /** {@code queueCapacity}, no preallocation, one sync at a time. */
    public static Options plain(int queueCapacity) {
      return new Options(queueCapacity, 0, 1);
    }
  }

  private record Pending(DataAuditRecord.Builder record, CompletableFuture<Void> written) {}

  /** A batch written and not yet durable; {@code end} is the file offset after it. */
  private record Written(long end, List<Pending> callers, SealedBatch sealed) {}

  private final Path path;
  private final String node;
  private final AuditFile file;
  private final int capacity;

  /** Records waiting for the writer: bounded by {@link #outstanding}, not by itself. */
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();

  /** Records admitted and not yet acknowledged: at most the capacity. */
  private final AtomicInteger outstanding = new AtomicInteger();

  private final Consumer<DataAuditRecord> listener;
  private final Thread writer;
  private final List<Thread> syncers = new ArrayList<>();
  private final ExecutorService acknowledgements;
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong refusedFull = new AtomicLong();
  private final AtomicLong syncs = new AtomicLong();

  /** Sequence -> file offset of every {@value #INDEX_EVERY}th durable record. */
  private final Map<Long, Long> offsets = new ConcurrentSkipListMap<>();

  /** The last durable record's sequence and hash, read together. */
  public record Head(long sequence, ByteString hash) {}

  private volatile Head last;

  /** Bytes of whole, synced records: what readers read up to. */
  private volatile long durableSize;

  // Guarded by `pipeline`: what the writer wrote and the sync threads are to make durable.
  private final Object pipeline = new Object();
  private Head writtenHead;
  private long writtenSize;
  private final Deque<Written> unsynced = new ArrayDeque<>();

  /** How far the last sync started covers. */
  private long syncStartedTo;

  /** Moves on each time a failed sync cuts the file back: a sync started before says nothing. */
  private long generation;

  private boolean writerDone;

  private volatile IOException broken;
  private volatile boolean closed;

  private DataAuditLog(
      Path path,
      String node,
      AuditFile file,
      int queueCapacity,
      int syncThreads,
      Consumer<DataAuditRecord> listener,
      IOException brokenOrNull)
      throws IOException {
    this.path = path;
    this.node = node;
    this.file = file;
    this.capacity = queueCapacity;
    this.listener = listener;
    this.broken = brokenOrNull;
    if (brokenOrNull == null) {
      recover();
    } else {
      this.last = new Head(0, GENESIS);
    }
    this.writtenHead = last;
    this.writtenSize = durableSize;
    this.syncStartedTo = durableSize;
    // Unbounded queue, bounded work: every task completes futures of records admitted under the
    // capacity, so there are never more than queueCapacity of them waiting.
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
    this.writer = new Thread(this::writeLoop, "data-audit-writer-" + node);
    writer.setDaemon(true);
    for (int i = 1; i <= syncThreads; i++) {
      Thread syncer = new Thread(this::syncLoop, "data-audit-sync-" + node + "-" + i);
      syncer.setDaemon(true);
      syncers.add(syncer);
    }
    writer.start();
    syncers.forEach(Thread::start);
  }

  /**
   * Opens (or creates, 0600) the log file {@code path} of node {@code node}.
   *
   * @param listener told about every record once it is durable (the sinks), in order, on a sync
   *     thread: it must not block; what it throws is logged
   */
  public static DataAuditLog open(
      Path path, String node, Options options, Consumer<DataAuditRecord> listener)
      throws IOException {
    AuditFile file = AuditFile.open(path, options.preallocateBytes(), options.syncThreads());
    try {
      return new DataAuditLog(
          path, node, file, options.queueCapacity(), options.syncThreads(), listener, null);
    } catch (IOException | RuntimeException e) {
      file.close();
      throw e;
    }
  }

  /** Opens {@code path} with no preallocation and one sync at a time. */
  public static DataAuditLog open(
      Path path, String node, int queueCapacity, Consumer<DataAuditRecord> listener)
      throws IOException {
    return open(path, node, Options.plain(queueCapacity), listener);
  }

  /**
   * A log that could not be opened ({@code failure}): it refuses every record with the reason, so
   * the node still starts and its calls fail or go on as {@code audit.data.failure-mode} says.
   */
  public static DataAuditLog unopened(Path path, String node, IOException failure) {
    try {
      return new DataAuditLog(path, node, AuditFile.closed(failure), 1, 1, record -> {}, failure);
    } catch (IOException e) {
      throw new IllegalStateException("an unopened log reads nothing", e);
    }
  }

  /** A log over {@code file} (tests: a file whose writes or syncs fail or stall). */
  static DataAuditLog over(
      Path path,
      String node,
      AuditFile file,
      int queueCapacity,
      int syncThreads,
      Consumer<DataAuditRecord> listener)
      throws IOException {
    return new DataAuditLog(path, node, file, queueCapacity, syncThreads, listener, null);
  }

  /** Reads the file to its last whole record; cuts off what follows. */
  private void recover() throws IOException {
    long size = file.size();
    DataAuditFileReader.Recovered found =
        DataAuditFileReader.recover(path, size, GENESIS, offsets, INDEX_EVERY);
    if (found.end() < size) {
      if (found.tailHasData()) {
        LOG.warn(
            "The data audit log {} ends in a torn record (bytes of a write never acknowledged"
                + " within the {} after record {}); cutting it off",
            path,
            size - found.end(),
            found.lastSequence());
      }
      file.truncate(found.end());
    }
    this.last = new Head(found.lastSequence(), found.lastHash());
    this.durableSize = found.end();
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
    if (outstanding.incrementAndGet() > capacity) {
      outstanding.decrementAndGet();
      refusedFull.incrementAndGet();
      return CompletableFuture.failedFuture(
          new Unavailable(
              "the data audit log's queue is full (" + capacity + " records wait for the disk)",
              null));
    }
    Pending pending = new Pending(record, new CompletableFuture<>());
    queue.add(pending);
    return pending.written();
  }

  private void writeLoop() {
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
      write(List.copyOf(batch));
      batch.clear();
    }
    Unavailable closing = new Unavailable("the data audit log is closed", null);
    List<Pending> left = new ArrayList<>();
    queue.drainTo(left);
    acknowledge(left, closing);
    synchronized (pipeline) {
      writerDone = true;
      pipeline.notifyAll();
    }
  }

  /** Chains and writes one batch and hands it to the sync threads, or fails all of it. */
  private void write(List<Pending> batch) {
    if (broken != null) {
      fail(batch, new Unavailable("the data audit log cannot be written", broken));
      return;
    }
    synchronized (pipeline) {
      SealedBatch sealed;
      try {
        sealed =
            SealedBatch.seal(
                batch.stream().map(Pending::record).toList(), writtenHead, node, writtenSize);
        file.append(sealed.bytes().asReadOnlyByteBuffer());
      } catch (IOException e) {
        cutBack(writtenSize, e);
        fail(batch, new Unavailable("the data audit log could not be written: " + e, e));
        return;
      } catch (RuntimeException e) {
        fail(batch, new Unavailable("the data audit log could not be written: " + e, null));
        return;
      }
      writtenSize += sealed.bytes().size();
      writtenHead = sealed.head();
      unsynced.add(new Written(writtenSize, batch, sealed));
      pipeline.notifyAll();
    }
  }

  /** Cuts the file back to {@code size} after {@code failure}; broken if even that fails. */
  private void cutBack(long size, IOException failure) {
    try {
      file.truncate(size);
    } catch (IOException | RuntimeException cut) {
      broken = failure;
      LOG.error(
          "The data audit log {} failed a write and could not be cut back ({}); it refuses every"
              + " record until the node restarts",
          path,
          cut.toString());
    }
  }

  /** A sync thread: syncs what was written since the last sync started, then releases it. */
  private void syncLoop() {
    while (true) {
      long target;
      long startedIn;
      synchronized (pipeline) {
        while (writtenSize <= syncStartedTo && !(writerDone && unsynced.isEmpty())) {
          try {
            pipeline.wait(200);
          } catch (InterruptedException e) {
            return;
          }
        }
        if (writtenSize <= syncStartedTo) {
          return; // the writer is done and everything it wrote is durable
        }
        target = writtenSize;
        startedIn = generation;
        syncStartedTo = target;
      }
      IOException failure = null;
      try {
        file.sync();
        syncs.incrementAndGet();
      } catch (IOException e) {
        failure = e;
      }
      synchronized (pipeline) {
        if (startedIn != generation) {
          continue; // the file was cut back meanwhile: what this sync covered is gone or failed
        }
        if (failure == null) {
          release(target);
        } else {
          failUnsynced(failure);
        }
        pipeline.notifyAll();
      }
    }
  }

  /** Marks every batch written before {@code syncedTo} durable and acknowledges it, in order. */
  private void release(long syncedTo) {
    while (!unsynced.isEmpty() && unsynced.peekFirst().end() <= syncedTo) {
      Written batch = unsynced.pollFirst();
      List<DataAuditRecord> records = batch.sealed().records();
      for (int i = 0; i < records.size(); i++) {
        long s = records.get(i).getSequence();
        if (s % INDEX_EVERY == 1) {
          offsets.put(s, batch.sealed().starts().get(i));
        }
      }
      durableSize = batch.end();
      last = batch.sealed().head();
      acknowledge(batch.callers(), null);
      for (DataAuditRecord record : records) {
        try {
          listener.accept(record);
        } catch (RuntimeException e) {
          LOG.warn("An audit sink failed on data audit record {}: {}", record.getSequence(), e);
        }
      }
    }
  }

  /** A sync failed: fails every batch not yet durable and cuts the file back to the last one. */
  private void failUnsynced(IOException failure) {
    LOG.error("The data audit log {} failed a sync: {}", path, failure.toString());
    cutBack(durableSize, failure);
    generation++;
    writtenSize = durableSize;
    writtenHead = last;
    syncStartedTo = durableSize;
    Unavailable unavailable =
        new Unavailable("the data audit log could not be synced: " + failure, failure);
    Written batch;
    while ((batch = unsynced.pollFirst()) != null) {
      fail(batch.callers(), unavailable);
    }
  }

  private void fail(List<Pending> batch, Unavailable failure) {
    failures.addAndGet(batch.size());
    acknowledge(batch, failure);
  }

  /**
   * Completes {@code batch}'s futures ({@code failureOrNull}: with it) on the acknowledging pool,
   * in chunks of {@value #ACK_CHUNK}, so callers' continuations run in parallel and off the log's
   * threads; on the calling thread once the pool is shut down (at close).
   */
  private void acknowledge(List<Pending> batch, Unavailable failureOrNull) {
    outstanding.addAndGet(-batch.size());
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

  /** Records not yet acknowledged: waiting for the writer or for a sync. */
  public int queued() {
    return outstanding.get();
  }

  /** Syncs that returned (each covers every record written before it started). */
  public long syncs() {
    return syncs.get();
  }

  /**
   * The durable records after sequence {@code afterSequence} that {@code filter} keeps, oldest
   * first, at most {@code limit}; reads from the file, starting near the cursor. Any thread.
   */
  public List<DataAuditRecord> read(
      long afterSequence, int limit, Predicate<DataAuditRecord> filter) throws IOException {
    long end = durableSize;
    if (end == 0) {
      return List.of();
    }
    long start = 0;
    for (Map.Entry<Long, Long> e : offsets.entrySet()) {
      if (e.getKey() > afterSequence + 1) {
        break;
      }
      start = e.getValue();
    }
    return DataAuditFileReader.read(path, start, end, afterSequence, limit, filter);
  }

  @Override
  public void close() {
    closed = true; // the writer drains what waits, the sync threads sync it, then they stop
    try {
      writer.join(5_000);
      for (Thread syncer : syncers) {
        syncer.join(5_000);
      }
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
