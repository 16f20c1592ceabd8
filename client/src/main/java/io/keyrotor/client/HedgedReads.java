package io.keyrotor.client;

import io.grpc.Context;
import io.grpc.Status;
import io.keyrotor.api.v1.ErrorReason;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Hedged idempotent reads: a read that has no answer after {@code after} is sent once more, to
 * another node than the one the first is waiting on; the first success is the answer and the other
 * call is cancelled. A leader that died without closing its connections (a host gone, a partition)
 * then costs the hedge delay instead of the attempt timeout. Only calls that change nothing and
 * count nothing are hedged (GetKey, ListKeys, Decrypt, the list and get calls of rotations, events
 * and receipts), never writes, Encrypt or GenerateDataKey.
 *
 * <p>Both calls run on a bounded pool of daemon threads ({@value #MAX_THREADS}); when it is full a
 * read runs unhedged on the caller's thread, so the pool never queues and never grows past its
 * bound. Thread-safe.
 */
final class HedgedReads implements AutoCloseable {
  /** The most reads (first calls and hedges together) in flight through the pool. */
  static final int MAX_THREADS = 64;

  /** One read's whole retrying call: avoiding {@code avoid} first, reporting each target tried. */
  @FunctionalInterface
  interface Chain<T> {
    T run(Set<String> avoid, Consumer<String> attempting);
  }

  private final Duration after;
  private final ThreadPoolExecutor pool;
  private final AtomicInteger hedgesSent = new AtomicInteger();

  /**
   * @param after how long a read waits for its first call before it sends the hedge; positive
   */
  HedgedReads(Duration after) {
    if (after.isNegative() || after.isZero()) {
      throw new IllegalArgumentException("the hedge delay must be positive: " + after);
    }
    this.after = after;
    AtomicInteger threads = new AtomicInteger();
    this.pool =
        new ThreadPoolExecutor(
            0,
            MAX_THREADS,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "keyrotor-hedged-read-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** The delay before a hedge. */
  Duration after() {
    return after;
  }

  /** How many hedges were sent since the client was built (for tests and diagnostics). */
  int hedgesSent() {
    return hedgesSent.get();
  }

  /**
   * Runs {@code chain}, hedged: its result, or the first call's error if both calls failed.
   *
   * @throws KeyrotorException the first call's error, or {@link ErrorReason#INTERRUPTED}
   */
  <T> T run(Chain<T> chain) {
    CompletableFuture<T> winner = new CompletableFuture<>();
    AtomicInteger outstanding = new AtomicInteger(1);
    AtomicReference<RuntimeException> firstError = new AtomicReference<>();
    AtomicReference<String> firstTarget = new AtomicReference<>();
    Context.CancellableContext first = Context.current().withCancellation();
    Context.CancellableContext hedge = Context.current().withCancellation();
    try {
      try {
        pool.execute(
            first.wrap(
                () -> settle(winner, outstanding, firstError, true, chain, Set.of(), firstTarget)));
      } catch (RejectedExecutionException e) {
        return chain.run(Set.of(), target -> {}); // the pool is full: unhedged, right here
      }
      // Wait the hedge delay; until the first call is waiting on a node (its thread may start
      // late on a loaded machine), the hedge would not know which node to avoid: wait again.
      String busy = null;
      while (busy == null) {
        try {
          return winner.get(after.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          busy = firstTarget.get(); // no answer yet: hedge below, once the first call has a node
        }
      }
      Set<String> avoid = Set.of(busy);
      outstanding.incrementAndGet();
      try {
        pool.execute(
            hedge.wrap(
                () ->
                    settle(
                        winner,
                        outstanding,
                        firstError,
                        false,
                        chain,
                        avoid,
                        new AtomicReference<>())));
        hedgesSent.incrementAndGet();
      } catch (RejectedExecutionException e) {
        if (outstanding.decrementAndGet() == 0) {
          winner.completeExceptionally(firstError.get());
        }
      }
      return winner.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw KeyrotorException.clientSide(
          Status.Code.CANCELLED,
          ErrorReason.INTERRUPTED,
          "interrupted while waiting for a read",
          e);
    } finally {
      first.cancel(null);
      hedge.cancel(null);
    }
  }

  /** Runs one call of the read and settles {@code winner} with its success or the last failure. */
  private static <T> void settle(
      CompletableFuture<T> winner,
      AtomicInteger outstanding,
      AtomicReference<RuntimeException> firstError,
      boolean isFirst,
      Chain<T> chain,
      Set<String> avoid,
      AtomicReference<String> target) {
    try {
      winner.complete(chain.run(avoid, target::set));
    } catch (RuntimeException e) {
      // The first call's error is the one reported; the hedge's only if the first left none.
      if (isFirst) {
        firstError.set(e);
      } else {
        firstError.compareAndSet(null, e);
      }
      if (outstanding.decrementAndGet() == 0) {
        winner.completeExceptionally(firstError.get());
      }
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
