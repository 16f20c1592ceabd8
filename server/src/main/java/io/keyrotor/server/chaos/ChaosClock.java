package io.keyrotor.server.chaos;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock the chaos suite can skew: it reads {@code anchorNode + (real - anchorReal) x rate}, where
 * {@code real} is the wrapped clock. Changing the offset or the rate re-anchors it at the current
 * reading, so each change is one step (a bump) and rates apply from the change on. With offset 0
 * and rate 1 it reads exactly the wrapped clock.
 *
 * <p>The node uses this one clock everywhere it reads time (the leader's command stamps, version
 * states), so a fault on it is a fault of the node's wall clock. Thread-safe.
 */
public final class ChaosClock extends Clock {
  /** The largest rate accepted (and the smallest is just above 0). */
  public static final double MAX_RATE = 100.0;

  private record Anchor(long realMillis, long nodeMillis, double rate) {
    long read(long realNow) {
      if (rate == 1.0) {
        return nodeMillis + (realNow - realMillis);
      }
      return nodeMillis + Math.round((realNow - realMillis) * rate);
    }
  }

  private final Clock real;
  private final AtomicReference<Anchor> anchor;

  /** A clock reading {@code real} until told otherwise. */
  public ChaosClock(Clock real) {
    this.real = Objects.requireNonNull(real, "real");
    long now = real.millis();
    this.anchor = new AtomicReference<>(new Anchor(now, now, 1.0));
  }

  private ChaosClock(Clock real, AtomicReference<Anchor> shared) {
    this.real = real;
    this.anchor = shared;
  }

  /** From now on: real time + {@code offsetMillis}, at the current rate. */
  public void setOffsetMillis(long offsetMillis) {
    long now = real.millis();
    anchor.updateAndGet(a -> new Anchor(now, now + offsetMillis, a.rate()));
  }

  /** From now on the clock advances {@code rate} times as fast as real time. */
  public void setRate(double rate) {
    if (!(rate > 0.0) || rate > MAX_RATE) {
      throw new IllegalArgumentException(
          "a clock rate must be above 0 and at most " + MAX_RATE + ", not " + rate);
    }
    long now = real.millis();
    anchor.updateAndGet(a -> new Anchor(now, a.read(now), rate));
  }

  /** Back to real time at rate 1. */
  public void reset() {
    long now = real.millis();
    anchor.set(new Anchor(now, now, 1.0));
  }

  /** This clock's reading minus the real clock's, now. */
  public long offsetMillis() {
    long now = real.millis();
    return anchor.get().read(now) - now;
  }

  public double rate() {
    return anchor.get().rate();
  }

  /** The wrapped (real) clock. */
  public Clock real() {
    return real;
  }

  @Override
  public long millis() {
    return anchor.get().read(real.millis());
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }

  @Override
  public ZoneId getZone() {
    return real.getZone();
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return new ChaosClock(real.withZone(zone), anchor);
  }
}
