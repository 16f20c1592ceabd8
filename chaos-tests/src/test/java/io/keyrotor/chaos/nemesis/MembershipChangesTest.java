package io.keyrotor.chaos.nemesis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** How long the membership nemesis lets a joining node take to start, catch up and prove. */
class MembershipChangesTest {
  @Test
  void joinWait_quietMachine_isTheMinimum() {
    assertEquals(
        MembershipChanges.MIN_WAIT_SECONDS, MembershipChanges.joinWaitSeconds(Duration.ZERO));
  }

  @Test
  void joinWait_nodesTookMinutesToStart_coversAJoinersStartAndItsCatchUp() {
    // The first recorded membership run: the first group answered 157 s after its start, so a
    // joiner started just before AddNode could not even answer within a fixed 90 s wait.
    Duration started = Duration.ofSeconds(157);
    int wait = MembershipChanges.joinWaitSeconds(started);
    assertTrue(wait >= 2 * started.toSeconds(), "wait " + wait + " s");
  }

  @Test
  void joinWait_neverBeyondWhatAddNodeAccepts() {
    assertEquals(
        MembershipChanges.MAX_WAIT_SECONDS,
        MembershipChanges.joinWaitSeconds(Duration.ofMinutes(30)));
  }
}
