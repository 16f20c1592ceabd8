package io.keyrotor.chaos.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pairing and validation of histories, and the reader's errors. */
class HistoryTest {
  private static Event event(long index, EventType type, int process, String f, long t) {
    return new Event(index, type, ProcessId.of(process), "n1", f, "k", null, null, null, t);
  }

  /** Asserts that {@link History#of} rejects these events; returns why. */
  private static HistoryException rejection(Event... events) {
    return assertThrows(HistoryException.class, () -> History.of(List.of(events)));
  }

  /** Asserts that {@link History#of} rejects these events, saying {@code why}. */
  private static void assertRejected(String why, Event... events) {
    HistoryException error = rejection(events);
    assertTrue(error.getMessage().contains(why), error.getMessage());
  }

  @Test
  void invocationsPairWithCompletions_andMissingCompletionsArePending() {
    History history =
        new SyntheticHistory()
            .ok(1, "read", "k", null, 0, 10, "3")
            .fail(2, "write", "k", "4", 5, 15, "INVALID_ARGUMENT")
            .info(3, "write", "k", "5", 6, 100)
            .op(4, "n2", "write", "k", SyntheticHistory.json("6"), 7, null, 0, null, null, null)
            .build();
    List<Operation> ops = history.operations();
    assertEquals(4, ops.size());
    assertEquals(Operation.Outcome.OK, ops.get(0).outcome());
    assertEquals(10, ops.get(0).completeNanos());
    assertEquals(Operation.Outcome.FAIL, ops.get(1).outcome());
    assertEquals(Operation.Outcome.INFO, ops.get(2).outcome());
    assertEquals(Operation.NEVER, ops.get(2).completeNanos(), "info completes at +infinity");
    assertEquals(Operation.Outcome.PENDING, ops.get(3).outcome());
    assertTrue(ops.get(3).isIndeterminate());
    assertTrue(ops.get(0).overlaps(ops.get(2)), "an info operation overlaps everything after it");
  }

  @Test
  void overlappingOperationsOfOneProcess_areRejected() {
    assertRejected(
        "not sequential",
        event(0, EventType.INVOKE, 1, "read", 0),
        event(1, EventType.INVOKE, 1, "read", 5),
        event(2, EventType.OK, 1, "read", 10));
  }

  @Test
  void processUsedAfterItsInfo_isRejected() {
    assertRejected(
        "retired",
        event(0, EventType.INVOKE, 1, "write", 0),
        event(1, EventType.INFO, 1, "write", 5),
        event(2, EventType.INVOKE, 1, "read", 10));
  }

  @Test
  void timeGoingBackwards_isRejected() {
    rejection(event(0, EventType.INVOKE, 1, "read", 10), event(1, EventType.OK, 1, "read", 5));
  }

  @Test
  void completionOfAnotherFunction_isRejected() {
    rejection(event(0, EventType.INVOKE, 1, "read", 0), event(1, EventType.OK, 1, "write", 5));
  }

  @Test
  void completionWithoutInvocation_isRejected() {
    rejection(event(0, EventType.OK, 1, "read", 0));
  }

  @Test
  void malformedLine_isReportedWithItsLineNumber() {
    String text =
        """
        {"index":0,"type":"invoke","process":1,"f":"read","t":0}

        {"index":1,"type":"done","process":1,"f":"read","t":1}
        """;
    HistoryException error =
        assertThrows(
            HistoryException.class, () -> HistoryReader.read(new StringReader(text), "h.jsonl"));
    assertTrue(error.getMessage().startsWith("h.jsonl:3: "), error.getMessage());
  }

  @Test
  void unknownField_isRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            HistoryCodec.fromJsonLine(
                "{\"index\":0,\"type\":\"invoke\",\"process\":1,\"f\":\"r\",\"t\":0,\"x\":1}"));
  }

  @Test
  void nemesisEventsAround_includeTheOneBeforeTheWindow() {
    History history =
        new SyntheticHistory()
            .nemesis(EventType.INFO, "start-partition", 0, null)
            .ok(1, "read", "k", null, 10, 20, "1")
            .nemesis(EventType.INFO, "stop-partition", 15, null)
            .nemesis(EventType.INFO, "start-kill", 50, null)
            .build();
    List<Event> around = history.nemesisEventsAround(10, 20, 10);
    assertEquals(
        List.of("start-partition", "stop-partition"), around.stream().map(Event::f).toList());
    assertEquals(1, history.operations().size(), "nemesis events are not operations");
  }
}
