package io.keyrotor.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Status;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.Key;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fills a cluster with keys for {@link KeyspaceScenario}: CreateKey through the public API, many in
 * flight at the leader, so every key is made exactly as a caller's (a KEK minted and wrapped by the
 * leader's HSM, one command in the log, replicated and applied everywhere). Key {@code i} is named
 * {@link #name}{@code (prefix, i)} and carries request id {@code prefix-i}, so a retried call is
 * answered from the stored result instead of making a second key; nothing of the replies is kept,
 * so a million keys cost the client no memory.
 */
final class KeyspaceLoader {
  private static final int ATTEMPTS = 20;
  private static final ScheduledExecutorService RETRY =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "keyspace-retry");
            t.setDaemon(true);
            return t;
          });

  private final KeyrotorTarget cluster;
  private final String prefix;
  private final int concurrency;

  KeyspaceLoader(KeyrotorTarget cluster, String prefix, int concurrency) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1");
    }
    this.cluster = cluster;
    this.prefix = prefix;
    this.concurrency = concurrency;
  }

  /** The name of key {@code index} under {@code prefix}: fixed width, so names sort by index. */
  static String name(String prefix, long index) {
    if (index < 0) {
      throw new IllegalArgumentException("negative key index " + index);
    }
    return String.format("%s%09d", prefix, index);
  }

  /**
   * {@code count} indexes spread evenly over [0, total), so reads touch the whole keyspace rather
   * than the keys created last (which a cache would still hold).
   */
  static long[] spread(long total, int count) {
    if (total < 1 || count < 1) {
      throw new IllegalArgumentException("total and count must be at least 1");
    }
    int n = (int) Math.min(total, count);
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = (long) ((double) i * total / n);
    }
    return out;
  }

  /**
   * Creates keys {@code from} to {@code to - 1}; throws when one fails for good (after retries of
   * UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED answers).
   */
  void load(long from, long to, ProgressLine progress) throws InterruptedException {
    Semaphore permits = new Semaphore(concurrency);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicLong done = new AtomicLong();
    long begin = System.nanoTime();
    long lastProgress = begin;
    for (long i = from; i < to && failure.get() == null; i++) {
      permits.acquire();
      attempt(i, 1, permits, failure, done);
      long now = System.nanoTime();
      if (now - lastProgress > 1_000_000_000L) {
        progress.status(
            String.format(
                "keyspace: created %,d of %,d keys (%,.0f/s)",
                from + done.get(), to, done.get() / ((now - begin) / 1e9)));
        lastProgress = now;
      }
    }
    permits.acquire(concurrency);
    permits.release(concurrency);
    if (failure.get() != null) {
      throw new IllegalStateException("creating keys failed: " + failure.get(), failure.get());
    }
  }

  private void attempt(
      long index,
      int attempt,
      Semaphore permits,
      AtomicReference<Throwable> failure,
      AtomicLong done) {
    ListenableFuture<Key> call;
    try {
      call =
          cluster
              .keys()
              .withDeadlineAfter(30, TimeUnit.SECONDS)
              .createKey(
                  CreateKeyRequest.newBuilder()
                      .setName(name(prefix, index))
                      .setZone("default")
                      .setRequestId(prefix + index)
                      .build());
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
      permits.release();
      return;
    }
    Futures.addCallback(
        call,
        new FutureCallback<Key>() {
          @Override
          public void onSuccess(Key key) {
            done.incrementAndGet();
            cluster.createdKeys.incrementAndGet();
            permits.release();
          }

          @Override
          public void onFailure(Throwable t) {
            cluster.noteFailure(t);
            Status.Code code = Status.fromThrowable(t).getCode();
            boolean retryable =
                code == Status.Code.UNAVAILABLE
                    || code == Status.Code.DEADLINE_EXCEEDED
                    || code == Status.Code.RESOURCE_EXHAUSTED;
            if (retryable && attempt < ATTEMPTS) {
              var unused =
                  RETRY.schedule(
                      () -> attempt(index, attempt + 1, permits, failure, done),
                      Math.min(2_000, 50L * attempt * attempt),
                      TimeUnit.MILLISECONDS);
            } else {
              failure.compareAndSet(null, t);
              permits.release();
            }
          }
        },
        MoreExecutors.directExecutor());
  }
}
