package io.keyrotor.server.hsm;

import com.codahale.metrics.MetricRegistry;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where calls' HSM work runs: minting and wrapping a new key-encryption key for a write. A fixed
 * number of daemon threads named {@value #THREAD_NAME_PREFIX}{@code N} and a bounded queue, so a
 * slow PKCS#11 module delays only the calls that need it, never a Raft thread (which would stall
 * apply on every key) or a gRPC thread (which would stall every call). When the queue is full a
 * task is refused at once with {@link Saturated}, which the API answers RESOURCE_EXHAUSTED
 * (HSM_BUSY) with a retry delay ({@code google.rpc.RetryInfo}) instead of queueing without bound.
 * The data plane's unwraps and batches run on an executor of this kind too ({@code
 * hsm.queue-capacity}).
 */
public final class HsmExecutor implements Executor, AutoCloseable {
  /** The name of every thread of this executor starts so. */
  public static final String THREAD_NAME_PREFIX = "keyrotor-hsm-call-";

  /** Threads of a node's executor: HSM calls wait on the module, not on the CPU. */
  public static final int DEFAULT_THREADS = 4;

  /** Calls that may wait for a thread before new ones are refused. */
  public static final int DEFAULT_QUEUE_CAPACITY = 256;

  private final ThreadPoolExecutor pool;
  private final int queueCapacity;
  private final AtomicLong refused = new AtomicLong();

  /** A node's executor: {@link #DEFAULT_THREADS} threads, {@link #DEFAULT_QUEUE_CAPACITY}. */
  public HsmExecutor() {
    this(DEFAULT_THREADS, DEFAULT_QUEUE_CAPACITY);
  }

  public HsmExecutor(int threads, int queueCapacity) {
    this(threads, queueCapacity, THREAD_NAME_PREFIX);
  }

  /**
   * An executor of {@code threads} threads named {@code threadNamePrefix}{@code N} and room for
   * {@code queueCapacity} waiting tasks (the data plane's HSM work has one of its own).
   */
  public HsmExecutor(int threads, int queueCapacity, String threadNamePrefix) {
    if (threads < 1 || queueCapacity < 1) {
      throw new IllegalArgumentException("an HSM executor needs a thread and room in its queue");
    }
    this.queueCapacity = queueCapacity;
    AtomicInteger count = new AtomicInteger();
    this.pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(queueCapacity),
            runnable -> new Worker(this, runnable, threadNamePrefix + count.incrementAndGet()),
            new ThreadPoolExecutor.AbortPolicy());
  }

  /** A thread of one executor, so that code can check where it runs. */
  private static final class Worker extends Thread {
    private final HsmExecutor owner;

    Worker(HsmExecutor owner, Runnable task, String name) {
      super(task, name);
      this.owner = owner;
      setDaemon(true);
    }
  }

  /**
   * Runs {@code task} on one of this executor's threads.
   *
   * @throws Saturated when {@link #DEFAULT_QUEUE_CAPACITY} (or the configured capacity) tasks wait
   * @throws RejectedExecutionException when the executor is closed
   */
  @Override
  public void execute(Runnable task) {
    try {
      pool.execute(task);
    } catch (RejectedExecutionException e) {
      if (pool.isShutdown()) {
        throw e;
      }
      refused.incrementAndGet();
      throw new Saturated(queueCapacity);
    }
  }

  /** Tasks waiting for a thread now (at most the queue capacity). */
  public int queued() {
    return pool.getQueue().size();
  }

  /** Tasks that may wait for a thread before new ones are refused. */
  public int queueCapacity() {
    return queueCapacity;
  }

  /** Threads of this executor. */
  public int threads() {
    return pool.getMaximumPoolSize();
  }

  /**
   * Gauges {@code PREFIX.queued} (tasks waiting now), {@code PREFIX.capacity} and counter {@code
   * PREFIX.refused} (tasks refused because the queue was full).
   */
  public void registerMetrics(MetricRegistry registry, String prefix) {
    registry.gauge(prefix + ".queued", () -> this::queued);
    registry.gauge(prefix + ".capacity", () -> this::queueCapacity);
    registry.gauge(prefix + ".refused", () -> refused::get);
  }

  /** Whether the calling thread is one of this executor's. */
  public boolean runsCurrentThread() {
    return Thread.currentThread() instanceof Worker worker && worker.owner == this;
  }

  /** Stops the threads; waiting tasks are dropped (their calls fail). */
  @Override
  public void close() {
    pool.shutdownNow();
  }

  /** A task refused because the queue is full: the HSM is not keeping up. */
  public static final class Saturated extends RejectedExecutionException {
    private static final long serialVersionUID = 1L;

    Saturated(int queueCapacity) {
      super(
          "this node's HSM work queue is full ("
              + queueCapacity
              + " tasks waiting, hsm.queue-capacity); retry after the delay in the status's"
              + " RetryInfo, or on another node that holds the zone");
    }
  }
}
