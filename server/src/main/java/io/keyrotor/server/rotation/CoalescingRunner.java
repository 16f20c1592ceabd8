package io.keyrotor.server.rotation;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a task at most once at a time and coalesces requests for it: any number of requests made
 * before a run starts are served by that one run, and requests made while a run is in progress
 * cause exactly one more run after it. A request is never lost (a run starts after it), and
 * requests never queue up behind a slow run, however fast they come.
 */
final class CoalescingRunner {
  private final Executor executor;
  private final Runnable task;
  private final AtomicBoolean requested = new AtomicBoolean();
  private final AtomicBoolean running = new AtomicBoolean();

  /**
   * @param executor where requested runs go; a rejected run (executor shut down) is dropped
   * @param task what one run does; it should not throw (an exception ends that run only)
   */
  CoalescingRunner(Executor executor, Runnable task) {
    this.executor = executor;
    this.task = task;
  }

  /** Asks for a run on the executor, unless one is already pending. */
  void request() {
    requested.set(true);
    if (running.compareAndSet(false, true)) {
      try {
        executor.execute(this::drain);
      } catch (RejectedExecutionException e) {
        running.set(false);
      }
    }
  }

  /**
   * Runs on the calling thread now, unless a run is pending or in progress: then that run's
   * follow-up serves this request (for a periodic caller already on the executor).
   */
  void runOrRequest() {
    requested.set(true);
    if (running.compareAndSet(false, true)) {
      drain();
    }
  }

  private void drain() {
    try {
      while (requested.getAndSet(false)) {
        task.run();
      }
    } finally {
      running.set(false);
    }
    // A request that came between the last check and running.set(false) saw a run in progress
    // and started none: start it here.
    if (requested.get()) {
      request();
    }
  }
}
