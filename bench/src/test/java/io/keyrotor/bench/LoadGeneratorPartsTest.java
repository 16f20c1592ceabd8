package io.keyrotor.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.SettableFuture;
import io.keyrotor.bench.echo.EchoMessage;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class LoadGeneratorPartsTest {
  @Test
  void echoMessage_hasTheRequestedSerializedSizes() {
    for (int[] sizes : new int[][] {{23, 117}, {107, 57}, {38, 147}, {300, 2000}, {5, 5}}) {
      EchoMessage request = EchoTarget.message(sizes[0], sizes[1]);
      EchoMessage reply =
          EchoMessage.newBuilder()
              .setPayload(com.google.protobuf.ByteString.copyFrom(new byte[request.getReplySize()]))
              .build();
      assertTrue(
          Math.abs(request.getSerializedSize() - sizes[0]) <= 1,
          Arrays.toString(sizes) + " request " + request.getSerializedSize());
      assertTrue(
          Math.abs(reply.getSerializedSize() - sizes[1]) <= 1,
          Arrays.toString(sizes) + " reply " + reply.getSerializedSize());
    }
  }

  @Test
  void mix_isNinetyNineOnePerHundred() {
    int[] counts = new int[3];
    for (long s = 0; s < 10_000; s++) {
      counts[MixedScenario.kind(s)]++;
    }
    assertEquals(9_000, counts[0]);
    assertEquals(900, counts[1]);
    assertEquals(100, counts[2]);
  }

  @Test
  void abOrder_alternatesBetweenRounds() {
    assertEquals(List.of("a", "b", "c"), BenchRun.order(List.of("a", "b", "c"), 0));
    assertEquals(List.of("c", "b", "a"), BenchRun.order(List.of("a", "b", "c"), 1));
    assertEquals(List.of("a", "b", "c"), BenchRun.order(List.of("a", "b", "c"), 2));
  }

  @Test
  void evenRounds_letEachArmOfAPairGoFirstEquallyOften() {
    assertEquals(2, BenchRun.evenRounds(1));
    assertEquals(2, BenchRun.evenRounds(2));
    assertEquals(4, BenchRun.evenRounds(3));
    for (int rounds = 1; rounds <= 5; rounds++) {
      int aFirst = 0;
      for (int round = 0; round < BenchRun.evenRounds(rounds); round++) {
        aFirst += BenchRun.order(List.of("a", "b"), round).get(0).equals("a") ? 1 : -1;
      }
      assertEquals(0, aFirst);
    }
  }

  @Test
  void median_ofOddEvenAndEmpty() {
    assertEquals(2.0, Stats.median(List.of(3.0, 1.0, 2.0)));
    assertEquals(2.5, Stats.median(List.of(4.0, 1.0, 2.0, 3.0)));
    assertTrue(Double.isNaN(Stats.median(List.of())));
    assertEquals(1.0, Stats.median(Arrays.asList(1.0, Double.NaN)));
  }

  @Test
  void measurement_roundTripsThroughJson() {
    Histogram h = LoadRunner.empty();
    for (int i = 1; i <= 100; i++) {
      h.recordValue(i * 10L);
    }
    Measurement m =
        new Measurement("read", "etcd", "closed", 16, 2, 2.0, h, Map.of("UNAVAILABLE", 3L));
    Row row = m.toRow();
    assertEquals("read", row.scenario());
    assertEquals(2, row.round());
    assertEquals(50.0, row.opsPerSecond());
    assertEquals(500, row.p50Micros(), 5);
    assertEquals(990, row.p99Micros(), 10);
    assertEquals(3, row.errorCount());
  }

  @Test
  void closedLoop_keepsConcurrencyInFlight_andCountsErrorsByCode() throws Exception {
    AtomicLong calls = new AtomicLong();
    LoadRunner runner =
        new LoadRunner(Duration.ZERO, Duration.ofMillis(200), new ProgressLine(System.err, false));
    Measurement m =
        runner.closedLoop(
            "t",
            "t",
            4,
            0,
            sequence ->
                calls.incrementAndGet() % 10 == 0
                    ? Futures.immediateFailedFuture(io.grpc.Status.UNAVAILABLE.asRuntimeException())
                    : Futures.immediateFuture("ok"));
    assertTrue(m.successes() > 0);
    assertEquals(calls.get(), m.successes() + m.errorCount());
    assertTrue(m.errors().containsKey("UNAVAILABLE"));
  }

  @Test
  void openLoop_startsRequestsAtTheRate() throws Exception {
    LoadRunner runner =
        new LoadRunner(Duration.ZERO, Duration.ofMillis(500), new ProgressLine(System.err, false));
    Measurement m = runner.openLoop("t", "t", 2_000, 0, sequence -> Futures.immediateFuture("ok"));
    assertEquals(1_000, (double) m.successes(), 5);
  }

  @Test
  void warmUntil_runsUntilTheCountCompleted_thenStops() throws Exception {
    AtomicLong calls = new AtomicLong();
    // Replies complete on another thread, as a gRPC call's do.
    ExecutorService transport = Executors.newFixedThreadPool(2);
    try {
      long completed =
          LoadRunner.warmUntil(
              sequence -> {
                calls.incrementAndGet();
                return Futures.submit(() -> "ok", transport);
              },
              4,
              5_000,
              Duration.ofMinutes(1));
      assertTrue(completed >= 5_000, "completed " + completed);
      long afterReturn = calls.get();
      Thread.sleep(100);
      assertEquals(afterReturn, calls.get(), "no call starts once the warm-up returned");
    } finally {
      transport.shutdownNow();
    }
  }

  @Test
  void warmUntil_endsAtTheCap_whenTheCountIsNotReached() throws Exception {
    ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
    try {
      long completed =
          LoadRunner.warmUntil(
              sequence -> {
                SettableFuture<String> reply = SettableFuture.create();
                var unused = later.schedule(() -> reply.set("ok"), 20, TimeUnit.MILLISECONDS);
                return reply;
              },
              2,
              1_000_000,
              Duration.ofMillis(300));
      assertTrue(completed > 0 && completed < 1_000_000, "completed " + completed);
    } finally {
      later.shutdownNow();
    }
  }
}
