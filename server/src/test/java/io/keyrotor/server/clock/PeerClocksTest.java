package io.keyrotor.server.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.consensus.ClockUnsafeException;
import io.keyrotor.consensus.CommandClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Offset estimation (NTP-style, carried forward on the monotonic clock) and the majority rule that
 * decides whether a node may stamp commands; no clocks are read, every reading is given.
 */
class PeerClocksTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final long DAY = 86_400_000L;
  private static final long MS = 1_000_000L;

  private static PeerClocks threeMembers() {
    return new PeerClocks(Set.of("n2", "n3"), Duration.ofMillis(500), Duration.ofSeconds(10));
  }

  /** n2 and n3 answer at T0 (real time) for a call sent at 0 ns and answered at 10 ms. */
  private static PeerClocks measuredAtT0() {
    PeerClocks clocks = threeMembers();
    assertTrue(clocks.record("n2", T0 + 5, 0, 10 * MS));
    assertTrue(clocks.record("n3", T0 + 5, 0, 10 * MS));
    return clocks;
  }

  @Test
  void offset_isRemoteMinusMidpoint_carriedForwardOnTheMonotonicClock() {
    PeerClocks clocks = threeMembers();
    // The peer read T0 + 300 in the middle of a 10 ms call sent when this node read T0.
    clocks.record("n2", T0 + 300, 0, 10 * MS);
    ClockAssessment now = clocks.assess(T0 + 5, 5 * MS);
    assertEquals(295, now.peers().get(0).offsetMillis());
    assertEquals(10, now.peers().get(0).roundTripMillis());
    // Five seconds later on both clocks: the same offset, from the same measurement.
    ClockAssessment later = clocks.assess(T0 + 5_005, 5_005 * MS);
    assertEquals(295, later.peers().get(0).offsetMillis());
    assertEquals(5_000, later.peers().get(0).ageMillis());
  }

  @Test
  void clocksAgree_safe_witnessOfTheMedian() {
    ClockAssessment a = measuredAtT0().assess(T0 + 100, 5 * MS);
    assertEquals(ClockAssessment.State.SAFE, a.state());
    assertTrue(a.mayStamp());
    assertEquals(T0 + 5, a.majorityTimeMillis());
    assertEquals(T0 + 100, a.agreedMillis(), "a safe node serves at its own time");
    assertNotNull(a.witnessOrNull());
    assertEquals(3, a.witnessOrNull().getMembersMeasured());
    assertEquals(500, a.witnessOrNull().getMaxOffsetMillis());
  }

  @Test
  void ownClockJumps400DaysForward_unsafeAtOnce_servesTheMajoritysTime() {
    PeerClocks clocks = measuredAtT0();
    // The wall clock jumped; the monotonic clock went on by 1 s.
    ClockAssessment a = clocks.assess(T0 + 1_005 + 400 * DAY, 1_005 * MS);
    assertEquals(ClockAssessment.State.UNSAFE, a.state());
    assertFalse(a.mayStamp());
    assertEquals(T0 + 1_005, a.agreedMillis(), "the peers' clocks, carried forward");
    assertEquals(400 * DAY, a.maxAbsoluteOffsetMillis());
    assertTrue(a.reason().contains("n2 -" + 400 * DAY + " ms"), a.reason());
  }

  @Test
  void ownClockJumps400DaysBack_unsafe() {
    ClockAssessment a = measuredAtT0().assess(T0 - 400 * DAY, 5 * MS);
    assertEquals(ClockAssessment.State.UNSAFE, a.state());
    assertEquals(T0 + 5, a.agreedMillis());
  }

  @Test
  void onePeerOff_theMajorityAgrees_safe() {
    PeerClocks clocks = threeMembers();
    clocks.record("n2", T0 + 5, 0, 10 * MS);
    clocks.record("n3", T0 + 5 + 400 * DAY, 0, 10 * MS);
    ClockAssessment a = clocks.assess(T0 + 5, 5 * MS);
    assertEquals(ClockAssessment.State.SAFE, a.state());
    assertFalse(a.peers().get(1).agrees());
    // The median ignores the one clock that is off.
    assertEquals(T0 + 5, a.majorityTimeMillis());
  }

  @Test
  void withinTheOffsetPlusHalfTheRoundTrip_agrees_beyond_disagrees() {
    PeerClocks clocks = threeMembers();
    clocks.record("n2", T0 + 5 + 600, 0, 10 * MS);
    clocks.record("n3", T0 + 5 + 500, 0, 400 * MS);
    ClockAssessment a = clocks.assess(T0 + 5, 5 * MS);
    assertFalse(a.peers().get(0).agrees(), "600 ms off, 5 ms uncertain");
    ClockAssessment b = clocks.assess(T0 + 5, 200 * MS);
    assertTrue(b.peers().get(1).agrees(), "within 500 ms give or take 200 ms");
  }

  @Test
  void nothingMeasured_orTooOld_unmeasured_stampsWithoutWitness() {
    PeerClocks clocks = threeMembers();
    ClockAssessment none = clocks.assess(T0, 0);
    assertEquals(ClockAssessment.State.UNMEASURED, none.state());
    assertTrue(none.mayStamp());
    assertNull(none.witnessOrNull());
    clocks.record("n2", T0 + 400 * DAY, 0, 10 * MS);
    ClockAssessment stale = clocks.assess(T0, 11_000 * MS);
    assertEquals(ClockAssessment.State.UNMEASURED, stale.state(), "a measurement ages out");
  }

  @Test
  void oneMeasuredPeerDisagrees_noMajority_unsafe() {
    PeerClocks clocks = threeMembers();
    clocks.record("n2", T0 + 400 * DAY, 0, 10 * MS);
    assertEquals(ClockAssessment.State.UNSAFE, clocks.assess(T0, 5 * MS).state());
  }

  @Test
  void slowAnswer_orUnknownPeer_notRecorded() {
    PeerClocks clocks = threeMembers();
    assertFalse(clocks.record("n2", T0, 0, 501 * MS), "round trip over the maximum offset");
    assertFalse(clocks.record("n9", T0, 0, 10 * MS), "not a member");
    assertEquals(ClockAssessment.State.UNMEASURED, clocks.assess(T0, 0).state());
  }

  @Test
  void oneMemberGroup_alwaysSafe_noWitness() {
    PeerClocks alone = new PeerClocks(Set.of(), Duration.ofMillis(500), Duration.ofSeconds(10));
    ClockAssessment a = alone.assess(T0 + 400 * DAY, 0);
    assertEquals(ClockAssessment.State.SAFE, a.state());
    assertNull(a.witnessOrNull());
  }

  @Test
  void guard_refusesToStampWhenUnsafe_servesTheMajoritysTime_stampsWithWitnessWhenSafe() {
    PeerClocks clocks = measuredAtT0();
    AtomicLong wall = new AtomicLong(T0 + 5);
    AtomicLong nanos = new AtomicLong(5 * MS);
    Clock clock =
        new Clock() {
          @Override
          public long millis() {
            return wall.get();
          }

          @Override
          public Instant instant() {
            return Instant.ofEpochMilli(millis());
          }

          @Override
          public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }
        };
    ClockGuard guard = new ClockGuard(clock, clocks, nanos::get);
    CommandClock.Stamp stamp = guard.stamp();
    assertEquals(T0 + 5, stamp.timeMillis());
    assertEquals(T0 + 5, stamp.witnessOrNull().getMajorityTimeUnixMillis());

    wall.addAndGet(400 * DAY);
    ClockUnsafeException refused = assertThrows(ClockUnsafeException.class, guard::stamp);
    assertTrue(refused.getMessage().contains("hands leadership"), refused.getMessage());
    assertEquals(1, guard.stampsRefused());
    assertEquals(T0 + 5, guard.agreedClock().millis());
    assertEquals(T0 + 5 + 400 * DAY, guard.wallClock().millis());
  }
}
