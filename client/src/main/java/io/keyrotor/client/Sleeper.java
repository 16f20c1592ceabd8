package io.keyrotor.client;

import java.time.Duration;

/**
 * Waits between retries. The SDK uses {@link #SYSTEM}; tests inject a sleeper that advances a
 * manual clock instead of waiting.
 */
@FunctionalInterface
public interface Sleeper {

  /** Sleeps with {@link Thread#sleep(long)}. */
  Sleeper SYSTEM =
      duration -> {
        long millis = duration.toMillis();
        if (millis > 0) {
          Thread.sleep(millis);
        }
      };

  /** Waits for the given non-negative duration. */
  void sleep(Duration duration) throws InterruptedException;
}
