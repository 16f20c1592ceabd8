package io.keyrotor.storage.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VersionLifecycleTest {
  /** The statuses a version can be stored with. */
  private static final List<VersionStatus> STORED =
      List.of(
          VersionStatus.VERSION_STATUS_ENABLED,
          VersionStatus.VERSION_STATUS_DISABLED,
          VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED,
          VersionStatus.VERSION_STATUS_DESTROYED,
          VersionStatus.VERSION_STATUS_CANCELLED);

  private static KeyVersionRecord version(VersionStatus status) {
    return KeyVersionRecord.newBuilder()
        .setVersion(3)
        .setStatus(status)
        .setStatusReason("before")
        .setActivationTimeUnixMillis(42)
        .build();
  }

  @Test
  void move_fromAStatusTheTableHas_setsStatusAndReasonAndNamesItsEvent() {
    for (Move move : Move.values()) {
      for (VersionStatus from : move.from()) {
        Optional<VersionLifecycle.Moved> moved = VersionLifecycle.move(move, version(from), "why");

        assertTrue(moved.isPresent(), move + " from " + from);
        assertEquals(move.to(), moved.get().version().getStatus());
        assertEquals("why", moved.get().version().getStatusReason());
        assertEquals(42, moved.get().version().getActivationTimeUnixMillis(), "the rest stays");
        assertEquals(move.event(), moved.get().event());
        assertEquals(move, moved.get().move());
      }
    }
  }

  @Test
  void move_fromAStatusTheTableDoesNotHave_isRefusedWithAStatePreconditionReason() {
    for (Move move : Move.values()) {
      for (VersionStatus from : VersionStatus.values()) {
        if (from == VersionStatus.UNRECOGNIZED || move.startsFrom(from)) {
          continue;
        }
        assertTrue(VersionLifecycle.move(move, version(from), "why").isEmpty(), move + " " + from);
        ErrorReason reason = VersionLifecycle.refusal(move, from);
        // The catalogue's FAILED_PRECONDITION group: "State conflicts ... nothing changed".
        assertTrue(
            reason.getNumber() >= 80 && reason.getNumber() <= 109,
            move + " " + from + ": " + reason);
      }
    }
  }

  /** A move refused from a status, and the reason the refusal names. */
  private record Refusal(Move move, VersionStatus from, ErrorReason reason) {}

  @Test
  void refusal_namesWhatTheVersionIsOrIsNot() {
    List<Refusal> refusals =
        List.of(
            new Refusal(
                Move.DISABLE,
                VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED,
                ErrorReason.VERSION_DESTROY_SCHEDULED),
            new Refusal(
                Move.SCHEDULE_DESTROY,
                VersionStatus.VERSION_STATUS_CANCELLED,
                ErrorReason.VERSION_CANCELLED),
            new Refusal(
                Move.CANCEL_DESTROY,
                VersionStatus.VERSION_STATUS_DESTROYED,
                ErrorReason.VERSION_DESTROYED),
            new Refusal(
                Move.CANCEL_DESTROY,
                VersionStatus.VERSION_STATUS_DISABLED,
                ErrorReason.DESTROY_NOT_SCHEDULED),
            new Refusal(
                Move.DESTROY, VersionStatus.VERSION_STATUS_ENABLED, ErrorReason.DESTROY_NOT_DUE),
            new Refusal(
                Move.CANCEL_PENDING,
                VersionStatus.VERSION_STATUS_DISABLED,
                ErrorReason.VERSION_NOT_PENDING));
    for (Refusal refusal : refusals) {
      assertEquals(
          refusal.reason(),
          VersionLifecycle.refusal(refusal.move(), refusal.from()),
          refusal.move() + " from " + refusal.from());
    }
  }

  @Test
  void enter_newVersionEnabled_activatedWhenPrimaryAtOnceElsePending() {
    KeyVersionRecord fresh = KeyVersionRecord.newBuilder().setVersion(1).build();

    VersionLifecycle.Moved active = VersionLifecycle.enter(fresh, true);
    VersionLifecycle.Moved pending = VersionLifecycle.enter(fresh, false);

    assertEquals(VersionStatus.VERSION_STATUS_ENABLED, active.version().getStatus());
    assertEquals(KeyEventType.KEY_EVENT_TYPE_ACTIVATED, active.event());
    assertEquals(Move.ENTER_ACTIVE, active.move());
    assertEquals(VersionStatus.VERSION_STATUS_ENABLED, pending.version().getStatus());
    assertEquals(KeyEventType.KEY_EVENT_TYPE_PENDING, pending.event());
    assertEquals(Move.ENTER_PENDING, pending.move());
  }

  @Test
  void destroyedAndCancelled_areFinal_andEveryStoredStatusIsReachableFromEntry() {
    Set<VersionStatus> reached = EnumSet.noneOf(VersionStatus.class);
    for (Move move : Move.values()) {
      assertFalse(move.startsFrom(VersionStatus.VERSION_STATUS_DESTROYED), move.name());
      assertFalse(move.startsFrom(VersionStatus.VERSION_STATUS_CANCELLED), move.name());
      if (move.isEntry()) {
        reached.add(move.to());
      }
    }
    for (int round = 0; round < STORED.size(); round++) {
      for (Move move : Move.values()) {
        if (move.from().stream().anyMatch(reached::contains)) {
          reached.add(move.to());
        }
      }
    }
    assertEquals(EnumSet.copyOf(STORED), reached);
  }

  @Test
  void movesFromOneStatusWithOneEvent_endInOneStatus() {
    // Reading a version's events back into moves (as the property test does) is unambiguous.
    for (Move a : Move.values()) {
      for (Move b : Move.values()) {
        boolean sameStart =
            a.isEntry() == b.isEntry()
                && (a.isEntry() || a.from().stream().anyMatch(b.from()::contains));
        if (sameStart && a.event() == b.event()) {
          assertEquals(a.to(), b.to(), a + " and " + b);
        }
      }
    }
  }
}
