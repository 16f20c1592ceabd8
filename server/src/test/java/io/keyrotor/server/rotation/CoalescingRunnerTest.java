package io.keyrotor.server.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The validator's scan requests: coalesced, never lost, never queued up. */
class CoalescingRunnerTest {
  /** An executor that runs nothing until told to. */
  private static final class ManualExecutor implements java.util.concurrent.Executor {
    final Queue<Runnable> queued = new ArrayDeque<>();

    @Override
    public void execute(Runnable command) {
      queued.add(command);
    }

    void runAll() {
      Runnable next;
      while ((next = queued.poll()) != null) {
        next.run();
      }
    }
  }

  @Test
  void burstOfRequestsBeforeARun_queuesOneRunAndRunsOnce() {
    ManualExecutor executor = new ManualExecutor();
    AtomicInteger runs = new AtomicInteger();
    CoalescingRunner runner = new CoalescingRunner(executor, runs::incrementAndGet);

    for (int i = 0; i < 1_000; i++) {
      runner.request();
    }

    assertEquals(1, executor.queued.size(), "one pending run, not one per request");
    executor.runAll();
    assertEquals(1, runs.get());
    runner.request();
    executor.runAll();
    assertEquals(2, runs.get(), "a request after the run gets its own run");
  }

  @Test
  void requestsDuringARun_causeExactlyOneFollowUp() throws Exception {
    ExecutorService executor = Executors.newFixedThreadPool(2);
    try {
      CountDownLatch firstRunStarted = new CountDownLatch(1);
      CountDownLatch releaseFirstRun = new CountDownLatch(1);
      AtomicInteger runs = new AtomicInteger();
      CountDownLatch twoRuns = new CountDownLatch(2);
      CoalescingRunner runner =
          new CoalescingRunner(
              executor,
              () -> {
                if (runs.incrementAndGet() == 1) {
                  firstRunStarted.countDown();
                  await(releaseFirstRun);
                }
                twoRuns.countDown();
              });

      runner.request();
      assertTrue(firstRunStarted.await(10, TimeUnit.SECONDS));
      Thread[] burst = new Thread[4];
      for (int t = 0; t < burst.length; t++) {
        burst[t] =
            new Thread(
                () -> {
                  for (int i = 0; i < 500; i++) {
                    runner.request();
                  }
                });
        burst[t].start();
      }
      for (Thread thread : burst) {
        thread.join();
      }
      runner.runOrRequest(); // the periodic caller joins the follow-up, it does not run beside it
      assertEquals(1, runs.get(), "nothing ran beside the first run");
      releaseFirstRun.countDown();

      assertTrue(twoRuns.await(10, TimeUnit.SECONDS), "the request during the run is not lost");
      executor.shutdown();
      assertTrue(executor.awaitTermination(10, TimeUnit.SECONDS));
      assertEquals(2, runs.get(), "2,001 requests during one run: exactly one follow-up");
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void concurrentRequests_everyRequestIsFollowedByARunThatStartedAfterIt() throws Exception {
    ExecutorService executor = Executors.newFixedThreadPool(3);
    try {
      AtomicLong requestsMade = new AtomicLong();
      AtomicLong requestsSeenByALaterRun = new AtomicLong();
      AtomicInteger concurrent = new AtomicInteger();
      AtomicInteger maxConcurrent = new AtomicInteger();
      AtomicInteger runs = new AtomicInteger();
      CoalescingRunner runner =
          new CoalescingRunner(
              executor,
              () -> {
                maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
                requestsSeenByALaterRun.set(requestsMade.get());
                runs.incrementAndGet();
                Thread.onSpinWait();
                concurrent.decrementAndGet();
              });
      Thread[] callers = new Thread[4];
      for (int t = 0; t < callers.length; t++) {
        boolean periodic = t == 0;
        callers[t] =
            new Thread(
                () -> {
                  for (int i = 0; i < 20_000; i++) {
                    requestsMade.incrementAndGet();
                    if (periodic) {
                      runner.runOrRequest();
                    } else {
                      runner.request();
                    }
                  }
                });
        callers[t].start();
      }
      for (Thread caller : callers) {
        caller.join();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (requestsSeenByALaterRun.get() != requestsMade.get() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }

      assertEquals(80_000, requestsMade.get());
      assertEquals(
          requestsMade.get(), requestsSeenByALaterRun.get(), "the last request got a run after it");
      assertEquals(1, maxConcurrent.get(), "never two runs at once");
      assertTrue(runs.get() < requestsMade.get(), "coalesced: " + runs.get() + " runs");
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void executorShutDown_requestIsDroppedAndLaterRequestsDoNotThrow() {
    ExecutorService executor = Executors.newSingleThreadExecutor();
    executor.shutdownNow();
    AtomicInteger runs = new AtomicInteger();
    CoalescingRunner runner = new CoalescingRunner(executor, runs::incrementAndGet);

    runner.request();
    runner.request();

    assertEquals(0, runs.get());
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
