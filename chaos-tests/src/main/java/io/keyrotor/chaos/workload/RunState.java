package io.keyrotor.chaos.workload;

import com.google.gson.JsonArray;
import io.keyrotor.chaos.history.HistoryRecorder;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the workers and the final phase of one run share: the settings, the history, the counter
 * behind request ids and plaintexts, the stop flag, the ciphertexts made, and whether a scheduled
 * rotation was seen.
 */
final class RunState {
  final Workloads.Config config;
  final HistoryRecorder recorder;
  final Ciphertexts ciphertexts = new Ciphertexts();
  private final AtomicLong counter = new AtomicLong();
  private final AtomicBoolean stop = new AtomicBoolean();
  private volatile boolean scheduledRotationSeen;

  RunState(Workloads.Config config, HistoryRecorder recorder) {
    this.config = config;
    this.recorder = recorder;
  }

  /** A request id unique in the run: {@code chaos-<run>-<f>-<n>}. */
  String requestId(String f) {
    return "chaos-" + config.runId() + "-" + f + "-" + next();
  }

  /** The next number of the run's one counter (request ids, plaintexts). */
  long next() {
    return counter.incrementAndGet();
  }

  void stop() {
    stop.set(true);
  }

  boolean stopped() {
    return stop.get();
  }

  /**
   * W5's reading of a key ({@link OperationValues#scheduledSlots}), noting a scheduled rotation.
   */
  JsonArray scheduled(NodeApi.KeyView view) {
    JsonArray out = OperationValues.scheduledSlots(view, config.scheduledPeriodMillis());
    if (out.size() > 0) {
      scheduledRotationSeen = true;
    }
    return out;
  }

  boolean scheduledRotationSeen() {
    return scheduledRotationSeen;
  }

  static void sleep(long millis) {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
