package io.keyrotor.chaos.history;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Builds histories for tests with explicit times: each operation adds an invoke and (unless
 * pending) a completion event; {@link #build()} orders the events by time (insertion order on ties)
 * and numbers them.
 */
public final class SyntheticHistory {
  private record Pending(long time, int order, Event event) {}

  private final List<Pending> events = new ArrayList<>();
  private int nextProcess = 100;

  /** Parses JSON, for compact values in tests: {@code json("{\"version\":3}")}. */
  public static JsonElement json(String text) {
    return JsonParser.parseString(text);
  }

  /** A process id not used by the explicit ids tests pass (they use small numbers). */
  public int freshProcess() {
    return nextProcess++;
  }

  /**
   * Adds an operation. {@code type} is the completion's type; null leaves it pending. For info and
   * pending operations {@code completeNanos} is when the driver gave up (info) or ignored.
   */
  public SyntheticHistory op(
      int process,
      String node,
      String f,
      String key,
      JsonElement input,
      long invokeNanos,
      EventType type,
      long completeNanos,
      JsonElement output,
      Long rev,
      String error) {
    add(
        invokeNanos,
        event(
            EventType.INVOKE, ProcessId.of(process), node, f, key, input, null, null, invokeNanos));
    if (type != null) {
      add(
          completeNanos,
          event(type, ProcessId.of(process), node, f, key, output, rev, error, completeNanos));
    }
    return this;
  }

  /** Adds an operation whose input and output are JSON text (null: none), as {@link #op} does. */
  public SyntheticHistory jsonOp(
      int process,
      String node,
      String f,
      String key,
      String input,
      long invokeNanos,
      EventType type,
      long completeNanos,
      String output,
      Long rev,
      String error) {
    return op(
        process,
        node,
        f,
        key,
        input == null ? null : json(input),
        invokeNanos,
        type,
        completeNanos,
        output == null ? null : json(output),
        rev,
        error);
  }

  /** An ok operation. */
  public SyntheticHistory ok(
      int process, String f, String key, String input, long invoke, long complete, String output) {
    return jsonOp(process, "n1", f, key, input, invoke, EventType.OK, complete, output, null, null);
  }

  /** An ok operation with a revision. */
  public SyntheticHistory okRev(
      int process,
      String f,
      String key,
      String input,
      long invoke,
      long complete,
      String output,
      long rev) {
    return jsonOp(process, "n1", f, key, input, invoke, EventType.OK, complete, output, rev, null);
  }

  /** A failed operation. */
  public SyntheticHistory fail(
      int process, String f, String key, String input, long invoke, long complete, String error) {
    return jsonOp(
        process, "n1", f, key, input, invoke, EventType.FAIL, complete, null, null, error);
  }

  /** An info operation (timed out at {@code gaveUp}); the process is retired. */
  public SyntheticHistory info(
      int process, String f, String key, String input, long invoke, long gaveUp) {
    return jsonOp(
        process,
        "n1",
        f,
        key,
        input,
        invoke,
        EventType.INFO,
        gaveUp,
        null,
        null,
        "DEADLINE_EXCEEDED");
  }

  /** A nemesis event. */
  public SyntheticHistory nemesis(EventType type, String f, long time, String value) {
    add(
        time,
        event(
            type,
            ProcessId.NEMESIS,
            null,
            f,
            null,
            value == null ? null : json(value),
            null,
            null,
            time));
    return this;
  }

  private void add(long time, Event event) {
    events.add(new Pending(time, events.size(), event));
  }

  private static Event event(
      EventType type,
      ProcessId process,
      String node,
      String f,
      String key,
      JsonElement value,
      Long rev,
      String error,
      long time) {
    return new Event(0, type, process, node, f, key, value, rev, error, time);
  }

  /** The events, numbered in time order. */
  public List<Event> events() {
    List<Pending> sorted = new ArrayList<>(events);
    sorted.sort(Comparator.comparingLong(Pending::time).thenComparingInt(Pending::order));
    List<Event> numbered = new ArrayList<>();
    for (Pending pending : sorted) {
      Event e = pending.event();
      numbered.add(
          new Event(
              numbered.size(),
              e.type(),
              e.process(),
              e.nodeOrNull(),
              e.f(),
              e.keyOrNull(),
              e.valueOrNull(),
              e.revOrNull(),
              e.errorOrNull(),
              e.timeNanos()));
    }
    return numbered;
  }

  /** The validated history. */
  public History build() {
    return History.of(events());
  }
}
