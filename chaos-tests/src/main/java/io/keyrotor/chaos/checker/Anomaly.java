package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.history.Event;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * One violation found by a checker: what kind, on which key, why, the operations that show it (at
 * most {@link #MAX_OPERATIONS}, in invocation order) and the nemesis events around them.
 *
 * @param kind a short kebab-case name ("stale-read", "lost-write", "split-brain", ...)
 * @param keyOrNull the key, if the anomaly is about one
 * @param explanation one or two sentences a reader can check against the operations
 * @param operations the relevant operations, at most {@link #MAX_OPERATIONS}
 * @param omittedOperations how many further relevant operations were left out
 * @param nemesisEvents the nemesis events from just before the first operation to the last one
 */
public record Anomaly(
    String kind,
    String keyOrNull,
    String explanation,
    List<Operation> operations,
    int omittedOperations,
    List<Event> nemesisEvents) {

  /** The most operations an anomaly lists. */
  public static final int MAX_OPERATIONS = 20;

  /** The most nemesis events an anomaly lists. */
  public static final int MAX_NEMESIS_EVENTS = 10;

  public Anomaly {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(explanation, "explanation");
    operations = List.copyOf(operations);
    nemesisEvents = List.copyOf(nemesisEvents);
    if (operations.size() > MAX_OPERATIONS) {
      throw new IllegalArgumentException("at most " + MAX_OPERATIONS + " operations");
    }
  }

  /**
   * An anomaly over {@code relevant} operations (deduplicated, sorted by invocation, cut to {@link
   * #MAX_OPERATIONS}), with the nemesis events of {@code nemesisJournal} around them.
   */
  public static Anomaly of(
      String kind,
      String keyOrNull,
      String explanation,
      List<Operation> relevant,
      List<Event> nemesisJournal) {
    List<Operation> sorted = new ArrayList<>();
    for (Operation operation : relevant) {
      if (sorted.stream().noneMatch(o -> o.id() == operation.id())) {
        sorted.add(operation);
      }
    }
    sorted.sort(Comparator.comparingLong(Operation::invokeNanos).thenComparing(Operation::id));
    int omitted = Math.max(0, sorted.size() - MAX_OPERATIONS);
    List<Operation> shown = sorted.subList(0, Math.min(sorted.size(), MAX_OPERATIONS));
    List<Event> nemesis = List.of();
    if (!shown.isEmpty()) {
      long from = shown.stream().mapToLong(Operation::invokeNanos).min().orElseThrow();
      long to =
          shown.stream()
              .mapToLong(o -> o.isIndeterminate() ? o.invokeNanos() : o.completeNanos())
              .max()
              .orElseThrow();
      nemesis = History.nemesisEventsAround(nemesisJournal, from, to, MAX_NEMESIS_EVENTS);
    }
    return new Anomaly(kind, keyOrNull, explanation, shown, omitted, nemesis);
  }

  /** A multi-line rendering: the kind and key, the explanation, the operations, the nemesis. */
  public String describe() {
    StringBuilder text = new StringBuilder();
    text.append(kind);
    if (keyOrNull != null) {
      text.append(" on ").append(keyOrNull);
    }
    text.append(": ").append(explanation).append('\n');
    for (Operation operation : operations) {
      text.append("    ").append(operation.describe()).append('\n');
    }
    if (omittedOperations > 0) {
      text.append("    (").append(omittedOperations).append(" more operations omitted)\n");
    }
    if (!nemesisEvents.isEmpty()) {
      text.append("  nemesis around them:\n");
      for (Event event : nemesisEvents) {
        text.append("    ").append(event).append('\n');
      }
    }
    return text.toString();
  }
}
