package io.keyrotor.chaos.history;

import com.google.gson.JsonElement;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A validated history: its events, the client operations they pair into (ordered by invocation) and
 * the nemesis journal.
 *
 * <p>Validation (any breach throws {@link HistoryException}, a harness bug): indices strictly
 * increase; {@code t} never decreases along the index (one clock, stamped under the recorder's
 * lock); every client process is sequential (at most one operation in flight; a completion follows
 * an invocation of the same process, {@code f}, key and node); a process that recorded an {@code
 * info} records nothing more. An invocation without a completion becomes a {@link
 * Operation.Outcome#PENDING} operation: indeterminate, completing at +infinity.
 */
public final class History {
  private final List<Event> events;
  private final List<Operation> operations;
  private final List<Event> nemesisEvents;

  private History(List<Event> events, List<Operation> operations, List<Event> nemesisEvents) {
    this.events = events;
    this.operations = operations;
    this.nemesisEvents = nemesisEvents;
  }

  /** Reads and validates {@code history.jsonl}. */
  public static History read(Path path) throws IOException {
    return of(HistoryReader.read(path));
  }

  /** Validates the events and pairs them into operations. */
  public static History of(List<Event> events) {
    List<Event> copy = List.copyOf(events);
    List<Event> nemesis = new ArrayList<>();
    Map<ProcessId, Event> inFlight = new HashMap<>();
    Set<ProcessId> retired = new HashSet<>();
    // Completions by invocation index; operations are built after the pass, in invocation order.
    Map<Long, Event> completionOf = new HashMap<>();
    List<Event> invocations = new ArrayList<>();
    Event previous = null;
    for (Event event : copy) {
      if (previous != null) {
        if (event.index() <= previous.index()) {
          throw new HistoryException(
              "index " + event.index() + " does not increase after " + previous.index());
        }
        if (event.timeNanos() < previous.timeNanos()) {
          throw new HistoryException(
              "t goes backwards at index "
                  + event.index()
                  + " ("
                  + event.timeNanos()
                  + " < "
                  + previous.timeNanos()
                  + "): events must be stamped on one clock");
        }
      }
      previous = event;
      if (event.process().isNemesis()) {
        nemesis.add(event);
        continue;
      }
      ProcessId process = event.process();
      if (retired.contains(process)) {
        throw new HistoryException(
            "process "
                + process
                + " records index "
                + event.index()
                + " after an info retired it (it must continue under a new id)");
      }
      if (event.type() == EventType.INVOKE) {
        Event pending = inFlight.get(process);
        if (pending != null) {
          throw new HistoryException(
              "process "
                  + process
                  + " is not sequential: index "
                  + event.index()
                  + " invokes while index "
                  + pending.index()
                  + " is in flight");
        }
        inFlight.put(process, event);
        invocations.add(event);
      } else {
        Event invoke = inFlight.remove(process);
        if (invoke == null) {
          throw new HistoryException(
              "process " + process + " completes at index " + event.index() + " without an invoke");
        }
        if (!invoke.f().equals(event.f())
            || !Objects.equals(invoke.keyOrNull(), event.keyOrNull())
            || !Objects.equals(invoke.nodeOrNull(), event.nodeOrNull())) {
          throw new HistoryException(
              "completion at index "
                  + event.index()
                  + " does not match its invocation at index "
                  + invoke.index()
                  + " (f, key or node differ)");
        }
        if (event.type() == EventType.INFO) {
          retired.add(process);
        }
        completionOf.put(invoke.index(), event);
      }
    }
    List<Operation> operations = new ArrayList<>(invocations.size());
    for (Event invoke : invocations) {
      operations.add(pair(operations.size(), invoke, completionOf.get(invoke.index())));
    }
    return new History(
        copy, Collections.unmodifiableList(operations), Collections.unmodifiableList(nemesis));
  }

  private static Operation pair(int id, Event invoke, Event completionOrNull) {
    if (completionOrNull == null) {
      return operation(
          id, invoke, Operation.Outcome.PENDING, null, null, null, Operation.NEVER, -1);
    }
    Operation.Outcome outcome =
        switch (completionOrNull.type()) {
          case OK -> Operation.Outcome.OK;
          case FAIL -> Operation.Outcome.FAIL;
          case INFO -> Operation.Outcome.INFO;
          case INVOKE -> throw new IllegalStateException("not a completion");
        };
    boolean indeterminate = outcome == Operation.Outcome.INFO;
    return operation(
        id,
        invoke,
        outcome,
        completionOrNull.valueOrNull(),
        completionOrNull.revOrNull(),
        completionOrNull.errorOrNull(),
        indeterminate ? Operation.NEVER : completionOrNull.timeNanos(),
        completionOrNull.index());
  }

  /** The operation {@code invoke} started, completed as given. */
  private static Operation operation(
      int id,
      Event invoke,
      Operation.Outcome outcome,
      JsonElement outputOrNull,
      Long revOrNull,
      String errorOrNull,
      long completeNanos,
      long completionIndex) {
    return new Operation(
        id,
        invoke.process(),
        invoke.nodeOrNull(),
        invoke.f(),
        invoke.keyOrNull(),
        invoke.valueOrNull(),
        outcome,
        outputOrNull,
        revOrNull,
        errorOrNull,
        invoke.timeNanos(),
        completeNanos,
        invoke.index(),
        completionIndex);
  }

  /** Every event, in index order. */
  public List<Event> events() {
    return events;
  }

  /** Client operations, ordered by invocation; {@link Operation#id()} is the position here. */
  public List<Operation> operations() {
    return operations;
  }

  /** Client operations matching {@code filter}, in invocation order. */
  public List<Operation> operations(Predicate<Operation> filter) {
    return operations.stream().filter(filter).toList();
  }

  /** The nemesis journal, in index order. */
  public List<Event> nemesisEvents() {
    return nemesisEvents;
  }

  /** Client operations that name a key, grouped by key (keys in order of first invocation). */
  public Map<String, List<Operation>> operationsByKey() {
    Map<String, List<Operation>> byKey = new LinkedHashMap<>();
    for (Operation operation : operations) {
      if (operation.keyOrNull() != null) {
        byKey.computeIfAbsent(operation.keyOrNull(), k -> new ArrayList<>()).add(operation);
      }
    }
    return byKey;
  }

  /**
   * The nemesis events that explain a window of time: the last one before {@code fromNanos} (the
   * fault state the window began in) and every one up to {@code toNanos}, at most {@code limit}.
   */
  public List<Event> nemesisEventsAround(long fromNanos, long toNanos, int limit) {
    return nemesisEventsAround(nemesisEvents, fromNanos, toNanos, limit);
  }

  /** As {@link #nemesisEventsAround(long, long, int)}, over any nemesis journal. */
  public static List<Event> nemesisEventsAround(
      List<Event> nemesisEvents, long fromNanos, long toNanos, int limit) {
    List<Event> around = new ArrayList<>();
    Event before = null;
    for (Event event : nemesisEvents) {
      if (event.timeNanos() < fromNanos) {
        before = event;
      } else if (event.timeNanos() <= toNanos && around.size() < limit) {
        around.add(event);
      }
    }
    if (before != null) {
      around.add(0, before);
      if (around.size() > limit) {
        around.remove(around.size() - 1);
      }
    }
    around.sort(Comparator.comparingLong(Event::index));
    return around;
  }
}
