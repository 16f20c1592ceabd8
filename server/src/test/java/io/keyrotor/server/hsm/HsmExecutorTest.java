package io.keyrotor.server.hsm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The HSM executor: its own named threads, a bounded queue, and a check of where code runs. */
class HsmExecutorTest {

  @Test
  void task_runsOnANamedThreadTheExecutorRecognises() throws Exception {
    try (HsmExecutor executor = new HsmExecutor(1, 4);
        HsmExecutor other = new HsmExecutor(1, 4)) {
      String name =
          CompletableFuture.supplyAsync(() -> Thread.currentThread().getName(), executor)
              .get(10, TimeUnit.SECONDS);
      boolean ownThread =
          CompletableFuture.supplyAsync(executor::runsCurrentThread, executor)
              .get(10, TimeUnit.SECONDS);
      boolean othersThread =
          CompletableFuture.supplyAsync(executor::runsCurrentThread, other)
              .get(10, TimeUnit.SECONDS);

      assertTrue(name.startsWith(HsmExecutor.THREAD_NAME_PREFIX), name);
      assertTrue(ownThread);
      assertFalse(othersThread, "another executor's thread is not this one's");
      assertFalse(executor.runsCurrentThread(), "nor is the caller's");
    }
  }

  @Test
  void queueFull_nextTaskRefusedAtOnceAsSaturated() throws Exception {
    try (HsmExecutor executor = new HsmExecutor(1, 1)) {
      CountDownLatch running = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      executor.execute(
          () -> {
            running.countDown();
            awaitQuietly(release);
          });
      assertTrue(running.await(10, TimeUnit.SECONDS));
      executor.execute(() -> {}); // waits in the queue

      assertThrows(HsmExecutor.Saturated.class, () -> executor.execute(() -> {}));
      release.countDown();
    }
  }

  @Test
  void closed_tasksRefusedButNotAsSaturated() {
    HsmExecutor executor = new HsmExecutor(1, 1);
    executor.close();

    RejectedExecutionException refused =
        assertThrows(RejectedExecutionException.class, () -> executor.execute(() -> {}));
    assertFalse(refused instanceof HsmExecutor.Saturated);
    assertInstanceOf(RejectedExecutionException.class, refused);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
