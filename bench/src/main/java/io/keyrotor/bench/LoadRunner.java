package io.keyrotor.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.Status;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives an {@link Operation} in a closed loop (a fixed number in flight, each slot starting the
 * next request when its previous one completes) or an open loop (requests started at fixed
 * intervals whatever the latency, latency counted from the intended start: coordinated omission
 * does not hide queueing). A warm-up precedes every measurement and is not recorded.
 */
public final class LoadRunner {
  static final long MAX_TRACKABLE_MICROS = TimeUnit.SECONDS.toMicros(60);

  /** An open loop that has this many requests outstanding is overloaded: further starts fail. */
  private static final int OPEN_LOOP_MAX_OUTSTANDING = 20_000;

  private final Duration warmup;
  private final Duration measure;
  private final ProgressLine progress;

  public LoadRunner(Duration warmup, Duration measure, ProgressLine progress) {
    this.warmup = warmup;
    this.measure = measure;
    this.progress = progress;
  }

  public Duration measureDuration() {
    return measure;
  }

  /** {@code concurrency} requests in flight for the warm-up and then the measurement. */
  public Measurement closedLoop(
      String scenario, String target, int concurrency, int round, Operation op)
      throws InterruptedException {
    return closedLoop(scenario, target, concurrency, round, op, warmup, measure);
  }

  /** As above with explicit warm-up and measurement times. */
  public Measurement closedLoop(
      String scenario,
      String target,
      int concurrency,
      int round,
      Operation op,
      Duration warmupTime,
      Duration measureTime)
      throws InterruptedException {
    return measure(
        scenario,
        target,
        "closed",
        concurrency,
        round,
        warmupTime,
        measureTime,
        (time, recorder, errors, label) ->
            runClosed(op, concurrency, deadline(time), recorder, errors, label));
  }

  /** Requests started at {@code ratePerSecond}, for the warm-up and then the measurement. */
  public Measurement openLoop(
      String scenario, String target, long ratePerSecond, int round, Operation op)
      throws InterruptedException {
    return openLoop(scenario, target, ratePerSecond, round, op, warmup, measure);
  }

  /** As above with explicit warm-up and measurement times. */
  public Measurement openLoop(
      String scenario,
      String target,
      long ratePerSecond,
      int round,
      Operation op,
      Duration warmupTime,
      Duration measureTime)
      throws InterruptedException {
    return measure(
        scenario,
        target,
        "open",
        ratePerSecond,
        round,
        warmupTime,
        measureTime,
        (time, recorder, errors, label) ->
            runOpen(op, ratePerSecond, time, recorder, errors, label));
  }

  /**
   * One run of a loop for {@code time}, recorded unless {@code recorder} and {@code errors} are
   * null.
   */
  @FunctionalInterface
  private interface Loop {
    void run(Duration time, Recorder recorder, Map<String, LongAdder> errors, String label)
        throws InterruptedException;
  }

  /** Runs {@code loop} unrecorded for the warm-up, then recorded for the measurement. */
  private static Measurement measure(
      String scenario,
      String target,
      String mode,
      long load,
      int round,
      Duration warmupTime,
      Duration measureTime,
      Loop loop)
      throws InterruptedException {
    if (!warmupTime.isZero()) {
      loop.run(warmupTime, null, null, scenario + " warm-up");
    }
    Recorder recorder = new Recorder(MAX_TRACKABLE_MICROS, 3);
    Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    long start = System.nanoTime();
    loop.run(measureTime, recorder, errors, scenario + "/" + target);
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Measurement(
        scenario,
        target,
        mode,
        load,
        round,
        seconds,
        recorder.getIntervalHistogram(),
        toMap(errors));
  }

  /**
   * A closed loop that runs until {@link Background#stop()}: load under which something else is
   * measured (a leader kill, an incident rotation). Its latencies and errors are kept.
   */
  public static Background background(Operation op, int concurrency) {
    return new Background(op, concurrency);
  }

  /**
   * Runs {@code op} at {@code concurrency} in flight, unrecorded, until {@code count} calls
   * completed or {@code cap} passed, whichever comes first, and returns how many completed. A
   * warm-up by count: the JIT compiles a method after thousands of calls, not after a fixed time,
   * so a path that is slow while cold needs the same number of calls as a fast one.
   */
  public static long warmUntil(Operation op, int concurrency, long count, Duration cap)
      throws InterruptedException {
    Background warm = background(op, concurrency);
    long end = deadline(cap);
    while (warm.completed() < count && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    warm.stop();
    return warm.completed();
  }

  /** A closed loop running in the background until stopped. */
  public static final class Background {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Recorder recorder = new Recorder(MAX_TRACKABLE_MICROS, 3);
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final LongAdder done = new LongAdder();
    private final CountDownLatch finished;
    private final long started = System.nanoTime();
    private Histogram histogram;

    private Background(Operation op, int concurrency) {
      finished = new CountDownLatch(concurrency);
      AtomicLong sequence = new AtomicLong();
      for (int slot = 0; slot < concurrency; slot++) {
        new Slot(op, () -> !stop.get(), sequence, recorder, errors, done, finished).next();
      }
    }

    public long completed() {
      return done.sum();
    }

    /** Stops starting requests and waits (up to 30 s) for those in flight. */
    public void stop() throws InterruptedException {
      if (stop.getAndSet(true)) {
        return;
      }
      finished.await(30, TimeUnit.SECONDS);
      histogram = recorder.getIntervalHistogram();
    }

    /** The outcome, once stopped. */
    public Measurement measurement(String scenario, String target, int concurrency, int round) {
      return new Measurement(
          scenario,
          target,
          "closed",
          concurrency,
          round,
          (System.nanoTime() - started) / 1e9,
          histogram == null ? LoadRunner.empty() : histogram,
          toMap(errors));
    }
  }

  private static long deadline(Duration duration) {
    return System.nanoTime() + duration.toNanos();
  }

  private void runClosed(
      Operation op,
      int concurrency,
      long deadline,
      Recorder recorder,
      Map<String, LongAdder> errors,
      String label)
      throws InterruptedException {
    AtomicLong sequence = new AtomicLong();
    LongAdder done = new LongAdder();
    CountDownLatch finished = new CountDownLatch(concurrency);
    for (int slot = 0; slot < concurrency; slot++) {
      new Slot(op, () -> System.nanoTime() < deadline, sequence, recorder, errors, done, finished)
          .next();
    }
    awaitWithProgress(finished, deadline, done, label);
  }

  /**
   * One in-flight slot of a closed loop: completes, records, starts the next while {@code
   * keepGoing} holds.
   */
  private static final class Slot implements FutureCallback<Object> {
    private final Operation op;
    private final BooleanSupplier keepGoing;
    private final AtomicLong sequence;
    private final Recorder recorder;
    private final Map<String, LongAdder> errors;
    private final LongAdder done;
    private final CountDownLatch finished;
    private long started;

    Slot(
        Operation op,
        BooleanSupplier keepGoing,
        AtomicLong sequence,
        Recorder recorder,
        Map<String, LongAdder> errors,
        LongAdder done,
        CountDownLatch finished) {
      this.op = op;
      this.keepGoing = keepGoing;
      this.sequence = sequence;
      this.recorder = recorder;
      this.errors = errors;
      this.done = done;
      this.finished = finished;
    }

    /**
     * Starts the next request, or counts the slot out once {@code keepGoing} fails. A request that
     * is already complete when started is recorded in this loop, not through a callback, so a
     * target that fails at once cannot nest calls without bound.
     */
    void next() {
      while (true) {
        if (!keepGoing.getAsBoolean()) {
          finished.countDown();
          return;
        }
        started = System.nanoTime();
        ListenableFuture<?> future;
        try {
          future = op.start(sequence.getAndIncrement());
        } catch (RuntimeException e) {
          future = Futures.immediateFailedFuture(e);
        }
        if (!future.isDone()) {
          Futures.addCallback(future, this, MoreExecutors.directExecutor());
          return;
        }
        try {
          Futures.getDone(future);
          record(null);
        } catch (java.util.concurrent.ExecutionException e) {
          record(e.getCause());
        } catch (RuntimeException e) {
          record(e);
        }
      }
    }

    private void record(Throwable failure) {
      if (failure == null) {
        if (recorder != null) {
          recorder.recordValue(
              Math.min(MAX_TRACKABLE_MICROS, (System.nanoTime() - started) / 1_000));
        }
      } else if (errors != null) {
        errors.computeIfAbsent(errorName(failure), k -> new LongAdder()).increment();
      }
      done.increment();
    }

    @Override
    public void onSuccess(Object result) {
      record(null);
      next();
    }

    @Override
    public void onFailure(Throwable t) {
      record(t);
      next();
    }
  }

  /** The gRPC status code of a failure, or the exception's class for a failure outside gRPC. */
  static String errorName(Throwable t) {
    Status status = Status.fromThrowable(t);
    if (status.getCode() == Status.Code.UNKNOWN && status.getCause() != null) {
      return "UNKNOWN:" + status.getCause().getClass().getSimpleName();
    }
    return status.getCode().name();
  }

  private void runOpen(
      Operation op,
      long ratePerSecond,
      Duration duration,
      Recorder recorder,
      Map<String, LongAdder> errors,
      String label)
      throws InterruptedException {
    long interval = Math.max(1, 1_000_000_000L / Math.max(1, ratePerSecond));
    long begin = System.nanoTime();
    long end = begin + duration.toNanos();
    AtomicInteger outstanding = new AtomicInteger();
    LongAdder done = new LongAdder();
    long lastProgress = begin;
    for (long i = 0; ; i++) {
      long intended = begin + i * interval;
      if (intended >= end) {
        break;
      }
      long wait = intended - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      if (outstanding.get() >= OPEN_LOOP_MAX_OUTSTANDING) {
        if (errors != null) {
          errors.computeIfAbsent("CLIENT_OVERLOADED", k -> new LongAdder()).increment();
        }
        continue;
      }
      outstanding.incrementAndGet();
      ListenableFuture<?> future;
      try {
        future = op.start(i);
      } catch (RuntimeException e) {
        future = Futures.immediateFailedFuture(e);
      }
      Futures.addCallback(
          future,
          new FutureCallback<Object>() {
            @Override
            public void onSuccess(Object result) {
              if (recorder != null) {
                recorder.recordValue(
                    Math.min(MAX_TRACKABLE_MICROS, (System.nanoTime() - intended) / 1_000));
              }
              outstanding.decrementAndGet();
              done.increment();
            }

            @Override
            public void onFailure(Throwable t) {
              if (errors != null) {
                errors.computeIfAbsent(errorName(t), k -> new LongAdder()).increment();
              }
              outstanding.decrementAndGet();
              done.increment();
            }
          },
          MoreExecutors.directExecutor());
      long now = System.nanoTime();
      if (now - lastProgress > 500_000_000L) {
        progress.update(label, done.sum(), (now - begin) / 1e9, (end - begin) / 1e9);
        lastProgress = now;
      }
    }
    long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (outstanding.get() > 0 && System.nanoTime() < drainDeadline) {
      Thread.sleep(5);
    }
  }

  private void awaitWithProgress(
      CountDownLatch finished, long deadline, LongAdder done, String label)
      throws InterruptedException {
    long begin = System.nanoTime();
    double total = (deadline - begin) / 1e9;
    while (!finished.await(500, TimeUnit.MILLISECONDS)) {
      progress.update(label, done.sum(), (System.nanoTime() - begin) / 1e9, total);
      if (System.nanoTime() > deadline + TimeUnit.SECONDS.toNanos(60)) {
        break; // requests stuck past a minute: report what completed
      }
    }
  }

  private static Map<String, Long> toMap(Map<String, LongAdder> errors) {
    Map<String, Long> out = new ConcurrentHashMap<>();
    errors.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Histograms of nothing, for scenarios that could not run. */
  static Histogram empty() {
    return new Histogram(MAX_TRACKABLE_MICROS, 3);
  }
}
