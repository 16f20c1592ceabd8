package io.keyrotor.server.audit;

import com.google.rpc.Code;
import io.keyrotor.api.v1.DataAuditRecord;
import io.keyrotor.consensus.KeyrotorStateMachine;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams both audit streams to where operators collect them ({@link FileSink}, {@link SyslogSink})
 * as they happen: the node's data audit records once durable, and the replicated chain's applied
 * commands from an apply listener. Neither producer ever waits for a sink: events go into a bounded
 * queue ({@value #CAPACITY}) that one thread of its own drains; an event that does not fit is
 * counted as dropped, and a sink that throws is logged and counted, so a slow or failing sink never
 * holds back apply nor a call (the logs themselves are the record; the sinks are copies).
 *
 * <p>Each event is one JSON object: {@code stream} ({@code data} or {@code replicated}), who, what,
 * which key and version, the outcome; never plaintext, key material, ciphertext or context values.
 */
public final class AuditSinks implements AutoCloseable {
  /** Most events waiting for the sinks. */
  static final int CAPACITY = 10_000;

  private static final Logger LOG = LoggerFactory.getLogger(AuditSinks.class);

  /** Where events go; called on the sinks' thread only. */
  public interface Sink extends AutoCloseable {
    void send(AuditEvent event) throws Exception;

    @Override
    void close();
  }

  private final List<Sink> sinks;
  private final BlockingQueue<AuditEvent> queue = new ArrayBlockingQueue<>(CAPACITY);
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final Thread thread;
  private volatile boolean closed;

  public AuditSinks(List<Sink> sinks) {
    this.sinks = List.copyOf(sinks);
    this.thread = new Thread(this::run, "audit-sinks");
    thread.setDaemon(true);
    if (!this.sinks.isEmpty()) {
      thread.start();
    }
  }

  /** True when at least one sink is configured. */
  public boolean enabled() {
    return !sinks.isEmpty();
  }

  /** Hands a durable data audit record to the sinks; never blocks. */
  public void data(DataAuditRecord record) {
    if (enabled()) {
      offer(dataEvent(record));
    }
  }

  /** The apply listener that hands every applied command's audit facts to the sinks. */
  public KeyrotorStateMachine.ApplyListener applyListener() {
    return (Command command, CommandResult result, long index, long nanos) -> {
      if (enabled()) {
        offer(replicatedEvent(command, result.getOutcome(), index));
      }
    };
  }

  /** Events dropped because the queue was full. */
  public long dropped() {
    return dropped.get();
  }

  /** Times a sink failed on an event. */
  public long failures() {
    return failures.get();
  }

  private void offer(AuditEvent event) {
    if (closed || !queue.offer(event)) {
      dropped.incrementAndGet();
    }
  }

  static AuditEvent dataEvent(DataAuditRecord r) {
    AuditEvent o = new AuditEvent();
    o.put("stream", "data");
    o.put("time", Instant.ofEpochMilli(r.getTimeUnixMillis()).toString());
    o.put("node", r.getNode());
    o.put("sequence", r.getSequence());
    o.put("principal", r.getPrincipal());
    o.put("method", r.getMethod());
    o.put("key", r.getKeyName());
    o.put("version", r.getKeyVersion());
    if (!r.getDestinationKeyName().isEmpty()) {
      o.put("destination_key", r.getDestinationKeyName());
    }
    o.put("outcome", codeName(r.getCode()));
    o.put("reason", r.getReason());
    o.put("request_id", r.getRequestId());
    if (r.getItems() > 0) {
      o.put("items", r.getItems());
      o.put("failed_items", r.getFailedItems());
    }
    o.put("hash", HexFormat.of().formatHex(r.getHash().toByteArray()));
    return o;
  }

  static AuditEvent replicatedEvent(Command c, CommandResultRecord outcome, long index) {
    AuditEvent o = new AuditEvent();
    o.put("stream", "replicated");
    o.put("time", Instant.ofEpochMilli(c.getProposedTimeUnixMillis()).toString());
    o.put("node", c.getOriginNode());
    o.put("index", index);
    o.put("principal", c.getPrincipal());
    o.put("action", c.getBodyCase().name());
    o.put("key", outcome.getKeyName());
    o.put("version", outcome.getVersion());
    o.put("outcome", codeName(outcome.getCode()));
    o.put("reason", outcome.getReason());
    o.put("request_id", c.getRequestId());
    return o;
  }

  static String codeName(int code) {
    Code known = Code.forNumber(code);
    return known == null ? Integer.toString(code) : known.name();
  }

  private void run() {
    List<AuditEvent> batch = new ArrayList<>();
    while (!closed || !queue.isEmpty()) {
      try {
        AuditEvent first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
      } catch (InterruptedException e) {
        break;
      }
      queue.drainTo(batch, 255);
      for (AuditEvent event : batch) {
        for (Sink sink : sinks) {
          try {
            sink.send(event);
          } catch (Exception e) {
            if (failures.getAndIncrement() % 1_000 == 0) {
              LOG.warn(
                  "An audit sink failed ({} failures so far): {}", failures.get(), e.toString());
            }
          }
        }
      }
      batch.clear();
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sinks.forEach(Sink::close);
  }
}
