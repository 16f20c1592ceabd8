package io.keyrotor.chaos.history;

import com.google.gson.JsonElement;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Records a run's history, thread-safe, on one clock: each event gets the next index and {@code t =
 * clock - start} under one lock, so index order and time order agree. Every event is written as a
 * JSON line and flushed at once, so a crashed run still leaves its history.
 *
 * <p>The recorder enforces the process rule: a process has at most one operation in flight; a
 * completion must follow that process's invocation; after an {@code info} the process is retired
 * and never records again (the worker continues under {@link #newProcess()}). Violations are
 * harness bugs and throw {@link IllegalStateException}.
 *
 * <p>Workers call {@link #invoke} just before sending a request and {@link #ok}, {@link #fail} or
 * {@link #info} just after the answer (or the timeout). The nemesis journals its actions with
 * {@link #nemesis}.
 */
public final class HistoryRecorder implements Closeable {
  private final Object lock = new Object();
  private final Writer out;
  private final LongSupplier nanoClock;
  private final long startNanos;
  private final List<Event> events = new ArrayList<>();
  private final Map<Integer, Event> inFlight = new HashMap<>();
  private final Set<Integer> retired = new HashSet<>();
  private int nextProcess;
  private boolean closed;

  /**
   * A recorder writing to {@code out}, timing with {@code nanoClock} (in production {@code
   * System::nanoTime}; the run starts now).
   */
  public HistoryRecorder(Writer out, LongSupplier nanoClock) {
    this.out = Objects.requireNonNull(out, "out");
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    this.startNanos = nanoClock.getAsLong();
  }

  /** A recorder writing {@code path} (created or truncated), timed by {@code System.nanoTime()}. */
  public static HistoryRecorder toFile(Path path) throws IOException {
    BufferedWriter writer = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
    return new HistoryRecorder(writer, System::nanoTime);
  }

  /** A fresh process id, never used before in this history. */
  public int newProcess() {
    synchronized (lock) {
      return nextProcess++;
    }
  }

  /**
   * Records that {@code process} is about to send request {@code f} about {@code keyOrNull} to
   * {@code nodeOrNull}, with argument {@code valueOrNull}.
   */
  public Event invoke(
      int process, String nodeOrNull, String f, String keyOrNull, JsonElement valueOrNull) {
    ProcessId id = ProcessId.of(process);
    synchronized (lock) {
      if (retired.contains(process)) {
        throw new IllegalStateException(
            "process " + process + " was retired by an info event and must not invoke again");
      }
      Event pending = inFlight.get(process);
      if (pending != null) {
        throw new IllegalStateException(
            "process " + process + " invoked " + f + " while " + pending.f() + " is in flight");
      }
      Event event = append(EventType.INVOKE, id, nodeOrNull, f, keyOrNull, valueOrNull, null, null);
      inFlight.put(process, event);
      nextProcess = Math.max(nextProcess, process + 1);
      return event;
    }
  }

  /** Records that the request in flight on {@code process} took effect, with its result. */
  public Event ok(int process, JsonElement valueOrNull, Long revOrNull) {
    return complete(process, EventType.OK, valueOrNull, revOrNull, null);
  }

  /** Records that the request in flight on {@code process} was certainly not applied. */
  public Event fail(int process, String error, JsonElement valueOrNull) {
    return complete(process, EventType.FAIL, valueOrNull, null, Objects.requireNonNull(error));
  }

  /**
   * Records that the outcome of the request in flight on {@code process} is unknown, and retires
   * the process.
   */
  public Event info(int process, String error) {
    return complete(process, EventType.INFO, null, null, Objects.requireNonNull(error));
  }

  /** Journals a nemesis action (usually {@code invoke} when it starts, {@code info} when done). */
  public Event nemesis(EventType type, String f, String nodeOrNull, JsonElement valueOrNull) {
    synchronized (lock) {
      return append(type, ProcessId.NEMESIS, nodeOrNull, f, null, valueOrNull, null, null);
    }
  }

  private Event complete(
      int process, EventType type, JsonElement valueOrNull, Long revOrNull, String errorOrNull) {
    synchronized (lock) {
      Event invoke = inFlight.remove(process);
      if (invoke == null) {
        throw new IllegalStateException(
            "process " + process + " completed (" + type.jsonName() + ") without an invoke");
      }
      if (type == EventType.INFO) {
        retired.add(process);
      }
      return append(
          type,
          invoke.process(),
          invoke.nodeOrNull(),
          invoke.f(),
          invoke.keyOrNull(),
          valueOrNull,
          revOrNull,
          errorOrNull);
    }
  }

  private Event append(
      EventType type,
      ProcessId process,
      String nodeOrNull,
      String f,
      String keyOrNull,
      JsonElement valueOrNull,
      Long revOrNull,
      String errorOrNull) {
    if (closed) {
      throw new IllegalStateException("the recorder is closed");
    }
    long t = nanoClock.getAsLong() - startNanos;
    Event event =
        new Event(
            events.size(),
            type,
            process,
            nodeOrNull,
            f,
            keyOrNull,
            valueOrNull,
            revOrNull,
            errorOrNull,
            t);
    events.add(event);
    try {
      out.write(HistoryCodec.toJsonLine(event));
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the history", e);
    }
    return event;
  }

  /** The operations still in flight, by process (at the end of a run they become indeterminate). */
  public int inFlightCount() {
    synchronized (lock) {
      return inFlight.size();
    }
  }

  /** A snapshot of every event recorded so far, in index order. */
  public List<Event> events() {
    synchronized (lock) {
      return List.copyOf(events);
    }
  }

  @Override
  public void close() throws IOException {
    synchronized (lock) {
      if (!closed) {
        closed = true;
        out.close();
      }
    }
  }
}
