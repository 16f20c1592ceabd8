package io.keyrotor.chaos.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recorder: JSON Lines on one clock, and the process rule. */
class HistoryRecorderTest {
  private final StringWriter out = new StringWriter();
  private final AtomicLong clock = new AtomicLong(1_000_000);
  private final HistoryRecorder recorder = new HistoryRecorder(out, clock::get);

  @Test
  void events_areWrittenAsJsonLines_inTheNotesFormat() throws IOException {
    clock.set(1_000_000 + 1_203_344_511L);
    recorder.invoke(3, "n1", "rotate", "kr-7", null);
    clock.set(1_000_000 + 1_248_813_002L);
    recorder.ok(3, SyntheticHistory.json("{\"version\":4}"), 118L);
    recorder.nemesis(
        EventType.INFO,
        "start-partition",
        null,
        SyntheticHistory.json("{\"kind\":\"isolate-leader\",\"grudge\":{\"n2\":[\"n1\",\"n3\"]}}"));
    String[] lines = out.toString().split("\n", -1);
    assertEquals(
        "{\"index\":0,\"type\":\"invoke\",\"process\":3,\"node\":\"n1\",\"f\":\"rotate\","
            + "\"key\":\"kr-7\",\"t\":1203344511}",
        lines[0]);
    assertEquals(
        "{\"index\":1,\"type\":\"ok\",\"process\":3,\"node\":\"n1\",\"f\":\"rotate\","
            + "\"key\":\"kr-7\",\"value\":{\"version\":4},\"rev\":118,\"t\":1248813002}",
        lines[1]);
    assertEquals(
        "{\"index\":2,\"type\":\"info\",\"process\":\"nemesis\",\"f\":\"start-partition\","
            + "\"value\":{\"kind\":\"isolate-leader\",\"grudge\":{\"n2\":[\"n1\",\"n3\"]}},"
            + "\"t\":1248813002}",
        lines[2]);
    List<Event> read = HistoryReader.read(new StringReader(out.toString()), "test");
    assertEquals(recorder.events(), read, "reading back gives the same events");
  }

  @Test
  void secondInvokeWhileInFlight_isRejected() {
    recorder.invoke(1, "n1", "read", "k", null);
    assertThrows(IllegalStateException.class, () -> recorder.invoke(1, "n1", "read", "k", null));
  }

  @Test
  void completionWithoutInvoke_isRejected() {
    assertThrows(IllegalStateException.class, () -> recorder.ok(1, null, null));
  }

  @Test
  void processAfterInfo_isRetired_andNewProcessGivesAFreshId() {
    recorder.invoke(0, "n1", "write", "k", new JsonPrimitive(1));
    recorder.info(0, "DEADLINE_EXCEEDED");
    assertThrows(
        IllegalStateException.class,
        () -> recorder.invoke(0, "n1", "write", "k", new JsonPrimitive(2)));
    int next = recorder.newProcess();
    assertNotEquals(0, next);
    recorder.invoke(next, "n1", "write", "k", new JsonPrimitive(2));
    recorder.fail(next, "INVALID_ARGUMENT", null);
    History history = History.of(recorder.events());
    assertEquals(2, history.operations().size());
    assertTrue(history.operations().get(0).isIndeterminate());
  }

  @Test
  void concurrentWorkers_produceAValidHistory_withIndexAndTimeInOrder() throws Exception {
    HistoryRecorder real = new HistoryRecorder(new StringWriter(), System::nanoTime);
    long seed = 0x5EED_0003L;
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      SplittableRandom random = new SplittableRandom(seed + w);
      workers.add(
          new Thread(
              () -> {
                int process = real.newProcess();
                for (int i = 0; i < 500; i++) {
                  real.invoke(process, "n1", "write", "k", new JsonPrimitive(i));
                  switch (random.nextInt(3)) {
                    case 0 -> real.ok(process, null, (long) i);
                    case 1 -> real.fail(process, "INVALID_ARGUMENT", null);
                    default -> {
                      real.info(process, "DEADLINE_EXCEEDED");
                      process = real.newProcess();
                    }
                  }
                }
              }));
    }
    workers.forEach(Thread::start);
    for (Thread worker : workers) {
      worker.join();
    }
    List<Event> events = real.events();
    assertEquals(4_000, events.size(), "seed " + seed);
    History history = History.of(events); // validates order, time and the process rule
    assertEquals(2_000, history.operations().size());
    assertEquals(0, real.inFlightCount());
  }

  @Test
  void toFile_flushesEveryEvent(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("history.jsonl");
    try (HistoryRecorder onDisk = HistoryRecorder.toFile(file)) {
      onDisk.invoke(0, "n1", "read", "k", null);
      assertEquals(1, Files.readAllLines(file).size(), "written before close");
    }
    History history = History.read(file);
    assertEquals(Operation.Outcome.PENDING, history.operations().get(0).outcome());
  }
}
