package io.keyrotor.bench;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Set-up work done as fast as the target allows (creating keys, generating data keys to decrypt):
 * {@code count} asynchronous calls with at most {@code concurrency} in flight, each retried a few
 * times when the target answers UNAVAILABLE or DEADLINE_EXCEEDED. Not measured.
 */
final class Bulk {
  private static final int ATTEMPTS = 5;

  private static final ScheduledExecutorService RETRY =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "bench-retry");
            t.setDaemon(true);
            return t;
          });

  private Bulk() {}

  /**
   * Runs {@code call(i)} for i in [0, count); returns the results in order; throws on a failure.
   */
  static <T> List<T> run(
      int count,
      int concurrency,
      IntFunction<ListenableFuture<T>> call,
      ProgressLine progress,
      String label,
      Consumer<Throwable> onFailure)
      throws InterruptedException {
    List<T> results = new ArrayList<>(Collections.nCopies(count, null));
    Semaphore permits = new Semaphore(concurrency);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long begin = System.nanoTime();
    long lastProgress = begin;
    for (int i = 0; i < count && failure.get() == null; i++) {
      permits.acquire();
      int index = i;
      attempt(call, index, 1, results, permits, failure, onFailure);
      long now = System.nanoTime();
      if (now - lastProgress > 500_000_000L) {
        progress.status(String.format("%s %,d/%,d", label, i, count));
        lastProgress = now;
      }
    }
    permits.acquire(concurrency);
    permits.release(concurrency);
    if (failure.get() != null) {
      throw new IllegalStateException(label + " failed: " + failure.get(), failure.get());
    }
    return results;
  }

  private static <T> void attempt(
      IntFunction<ListenableFuture<T>> call,
      int index,
      int attempt,
      List<T> results,
      Semaphore permits,
      AtomicReference<Throwable> failure,
      Consumer<Throwable> onFailure) {
    ListenableFuture<T> future;
    try {
      future = call.apply(index);
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
      permits.release();
      return;
    }
    future.addListener(
        () -> {
          try {
            T value = future.get();
            synchronized (results) {
              results.set(index, value);
            }
            permits.release();
          } catch (ExecutionException e) {
            onFailure.accept(e.getCause());
            Status.Code code = Status.fromThrowable(e.getCause()).getCode();
            boolean retryable =
                code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
            if (retryable && attempt < ATTEMPTS) {
              // Nothing to wait for: the attempt records its own failure and releases its permit.
              ScheduledFuture<?> unused =
                  RETRY.schedule(
                      () -> attempt(call, index, attempt + 1, results, permits, failure, onFailure),
                      50L * attempt,
                      TimeUnit.MILLISECONDS);
            } else {
              failure.compareAndSet(null, e.getCause());
              permits.release();
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure.compareAndSet(null, e);
            permits.release();
          }
        },
        Runnable::run);
  }
}
