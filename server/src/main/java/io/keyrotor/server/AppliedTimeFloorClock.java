package io.keyrotor.server;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The clock a node evaluates version states at: its own clock, but never earlier than the time of
 * the last command it applied (leader-stamped, replicated, monotonic across the log).
 *
 * <p>Without the floor, a node whose clock is behind the leader's shows a version the cluster has
 * already activated as PENDING, and serves (and encrypts with) the previous primary after the
 * rotation was acknowledged: a stale read that the chaos suite's W2 checker caught under clock
 * strobes and bumps. Every activation time a command carries is at most its applied time when the
 * activation delay is zero, so after applying the rotation every node agrees it is primary,
 * whatever its clock says. A node whose clock is ahead still evaluates at its own time.
 */
final class AppliedTimeFloorClock extends Clock {
  private final Clock clock;
  private final LongSupplier lastAppliedTimeMillis;

  AppliedTimeFloorClock(Clock clock, LongSupplier lastAppliedTimeMillis) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.lastAppliedTimeMillis = Objects.requireNonNull(lastAppliedTimeMillis);
  }

  @Override
  public long millis() {
    return Math.max(clock.millis(), lastAppliedTimeMillis.getAsLong());
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }

  @Override
  public ZoneId getZone() {
    return clock.getZone();
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return new AppliedTimeFloorClock(clock.withZone(zone), lastAppliedTimeMillis);
  }
}
