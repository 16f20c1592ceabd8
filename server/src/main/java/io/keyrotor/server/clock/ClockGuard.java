package io.keyrotor.server.clock;

import io.keyrotor.consensus.ClockUnsafeException;
import io.keyrotor.consensus.CommandClock;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The node's clock checked against its peers' ({@link PeerClocks}), for the two things a clock
 * decides in keyrotor:
 *
 * <ul>
 *   <li><b>Stamping</b> ({@link CommandClock}): as leader the node stamps a command with its own
 *       clock only while that clock is not UNSAFE; otherwise it refuses ({@link
 *       ClockUnsafeException}, the caller sees UNAVAILABLE {@code CLOCK_UNSAFE}) and {@link
 *       ClockProbe} hands leadership to a member whose clock agrees. Each stamp carries the witness
 *       of the measured clocks, which apply uses to cap the stamp again.
 *   <li><b>Serving</b> ({@link #agreedClock()}): version states and the rotation engine's decisions
 *       use this node's clock, or the majority's time while this node's clock is UNSAFE, so a node
 *       whose clock jumped neither serves a pending version as primary nor proposes a destroy
 *       before its time.
 * </ul>
 *
 * Every reading is assessed afresh (no cache), so a jump is caught by the first stamp after it.
 */
public final class ClockGuard implements CommandClock {
  private final Clock clock;
  private final PeerClocks peers;
  private final LongSupplier nanoTime;
  private final AtomicLong stampsRefused = new AtomicLong();

  /**
   * @param clock the node's wall clock (the chaos clock in chaos mode)
   * @param peers the measurements of the peers' clocks
   * @param nanoTime the monotonic clock the measurements are on ({@code System::nanoTime})
   */
  public ClockGuard(Clock clock, PeerClocks peers, LongSupplier nanoTime) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.peers = Objects.requireNonNull(peers, "peers");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  /** This node's clock against its peers', now. */
  public ClockAssessment assess() {
    return peers.assess(clock.millis(), nanoTime.getAsLong());
  }

  /** The node's own (unchecked) wall clock, which peers measure. */
  public Clock wallClock() {
    return clock;
  }

  @Override
  public Stamp stamp() {
    ClockAssessment assessment = assess();
    if (!assessment.mayStamp()) {
      stampsRefused.incrementAndGet();
      throw new ClockUnsafeException(
          assessment.reason()
              + "; the leader stamps no command with its clock and hands leadership to a member"
              + " whose clock agrees: retry shortly");
    }
    return new Stamp(assessment.ownMillis(), assessment.witnessOrNull());
  }

  /** How many stamps this node refused (for metrics). */
  public long stampsRefused() {
    return stampsRefused.get();
  }

  /** A clock reading this node's time, or the majority's while this node's clock is UNSAFE. */
  public Clock agreedClock() {
    return new AgreedClock(clock.getZone());
  }

  private final class AgreedClock extends Clock {
    private final ZoneId zone;

    AgreedClock(ZoneId zone) {
      this.zone = zone;
    }

    @Override
    public long millis() {
      return assess().agreedMillis();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
      return zone;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return new AgreedClock(zone);
    }
  }
}
