package io.keyrotor.client;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter: before retry {@code n} (counting from 0) wait a uniformly
 * random time in {@code [0, min(max, initial * 2^n)]}. Full jitter spreads the retries of many
 * clients that failed together (a leader election) instead of synchronising them.
 *
 * <p>Immutable and thread-safe if the random generator is.
 */
public final class Backoff {

  private final Duration initial;
  private final Duration max;
  private final RandomGenerator random;

  /**
   * @param initial the ceiling of the first delay; greater than zero
   * @param max the largest ceiling; at least {@code initial}
   * @param random the source of jitter
   */
  public Backoff(Duration initial, Duration max, RandomGenerator random) {
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("initial backoff must be greater than zero: " + initial);
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "max backoff " + max + " is smaller than the initial backoff " + initial);
    }
    this.initial = initial;
    this.max = max;
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * The largest delay before retry {@code retry} (0-based): {@code min(max, initial * 2^retry)}.
   */
  public Duration ceiling(int retry) {
    if (retry < 0) {
      throw new IllegalArgumentException("retry must be >= 0: " + retry);
    }
    long initialNanos = initial.toNanos();
    long maxNanos = max.toNanos();
    // Doubling past 62 shifts overflows; by then the ceiling is long since capped.
    if (retry >= 62 || initialNanos > (maxNanos >> Math.min(retry, 62))) {
      return max;
    }
    return Duration.ofNanos(Math.min(maxNanos, initialNanos << retry));
  }

  /** A random delay in {@code [0, ceiling(retry)]}. */
  public Duration delay(int retry) {
    long ceilingNanos = ceiling(retry).toNanos();
    return Duration.ofNanos(random.nextLong(ceilingNanos + 1));
  }

  /** The ceiling of the first delay. */
  public Duration initial() {
    return initial;
  }

  /** The largest ceiling. */
  public Duration max() {
    return max;
  }
}
