package io.keyrotor.storage.lifecycle;

import static io.keyrotor.proto.internal.v1.VersionStatus.VERSION_STATUS_CANCELLED;
import static io.keyrotor.proto.internal.v1.VersionStatus.VERSION_STATUS_DESTROYED;
import static io.keyrotor.proto.internal.v1.VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED;
import static io.keyrotor.proto.internal.v1.VersionStatus.VERSION_STATUS_DISABLED;
import static io.keyrotor.proto.internal.v1.VersionStatus.VERSION_STATUS_ENABLED;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The lifecycle of a key version's stored {@link VersionStatus}, as one table: every move a status
 * may make and the {@link KeyEventType} the move emits, declared once in {@link Move}. Apply
 * changes a version's status only through {@link #enter} and {@link #move}; a move the table does
 * not have is refused as a result, with the reason {@link #refusal} gives, never thrown.
 *
 * <pre>
 *   move                   from                 to                 event
 *   ENTER_ACTIVE           (a new version)      ENABLED            ACTIVATED
 *   ENTER_PENDING          (a new version)      ENABLED            PENDING
 *   ENABLE                 DISABLED             ENABLED            ENABLED
 *   DISABLE                ENABLED              DISABLED           DISABLED
 *   DISABLE_BY_COMPROMISE  ENABLED              DISABLED           DISABLED
 *   DISABLE_BELOW_FLOOR    ENABLED              DISABLED           DISABLED
 *   CANCEL_PENDING         ENABLED              CANCELLED          CANCELLED
 *   SCHEDULE_DESTROY       ENABLED, DISABLED    DESTROY_SCHEDULED  DESTROY_SCHEDULED
 *   CANCEL_DESTROY         DESTROY_SCHEDULED    DISABLED           DESTROY_CANCELLED
 *   DESTROY                DESTROY_SCHEDULED    DESTROYED          DESTROYED
 * </pre>
 *
 * <p>Stored statuses are not the states a caller sees. PENDING, PRIMARY and DECRYPT_ONLY are
 * derived from an ENABLED version's record and the time by {@link
 * io.keyrotor.storage.KeyVersions#stateAt}: a pending version becomes primary when its activation
 * time passes (and its validation gate, if any, is passed), and a rollback demotes a primary from
 * an effective time, all without a stored move. So ACTIVATED is also emitted without a move, when
 * the leader records an activation or a rollback restores a primary; the table's ACTIVATED is the
 * one of a version that is primary the moment it enters. Each move is the table's; what makes a
 * move apply at a given time (a version is pending, a destroy is due, a floor is raised) is decided
 * by the handler of the command that asks for it.
 */
public final class VersionLifecycle {
  private static final Set<VersionStatus> NEW_VERSION = EnumSet.noneOf(VersionStatus.class);

  /** A move of a version's stored status: where it may start, where it ends, what it emits. */
  public enum Move {
    /** A new version that is primary at once (no delay and no validation gate). */
    ENTER_ACTIVE(NEW_VERSION, VERSION_STATUS_ENABLED, KeyEventType.KEY_EVENT_TYPE_ACTIVATED),
    /** A new version waiting for its activation time or its validation gate. */
    ENTER_PENDING(NEW_VERSION, VERSION_STATUS_ENABLED, KeyEventType.KEY_EVENT_TYPE_PENDING),
    /** An operator enables a disabled version again. */
    ENABLE(
        EnumSet.of(VERSION_STATUS_DISABLED),
        VERSION_STATUS_ENABLED,
        KeyEventType.KEY_EVENT_TYPE_ENABLED),
    /** An operator disables a version that is not the primary. */
    DISABLE(
        EnumSet.of(VERSION_STATUS_ENABLED),
        VERSION_STATUS_DISABLED,
        KeyEventType.KEY_EVENT_TYPE_DISABLED),
    /** A compromise rotation disables the previous primary and any pending version. */
    DISABLE_BY_COMPROMISE(
        EnumSet.of(VERSION_STATUS_ENABLED),
        VERSION_STATUS_DISABLED,
        KeyEventType.KEY_EVENT_TYPE_DISABLED),
    /** A raised decryption floor disables the enabled versions below it. */
    DISABLE_BELOW_FLOOR(
        EnumSet.of(VERSION_STATUS_ENABLED),
        VERSION_STATUS_DISABLED,
        KeyEventType.KEY_EVENT_TYPE_DISABLED),
    /** A pending version is cancelled (a failed validation gate, or an operator abort). */
    CANCEL_PENDING(
        EnumSet.of(VERSION_STATUS_ENABLED),
        VERSION_STATUS_CANCELLED,
        KeyEventType.KEY_EVENT_TYPE_CANCELLED),
    /** A version that is neither primary nor pending is scheduled for destruction. */
    SCHEDULE_DESTROY(
        EnumSet.of(VERSION_STATUS_ENABLED, VERSION_STATUS_DISABLED),
        VERSION_STATUS_DESTROY_SCHEDULED,
        KeyEventType.KEY_EVENT_TYPE_DESTROY_SCHEDULED),
    /** A scheduled destroy is cancelled; the version stays disabled. */
    CANCEL_DESTROY(
        EnumSet.of(VERSION_STATUS_DESTROY_SCHEDULED),
        VERSION_STATUS_DISABLED,
        KeyEventType.KEY_EVENT_TYPE_DESTROY_CANCELLED),
    /** A scheduled destroy is due: the version's wrapped material is erased, for good. */
    DESTROY(
        EnumSet.of(VERSION_STATUS_DESTROY_SCHEDULED),
        VERSION_STATUS_DESTROYED,
        KeyEventType.KEY_EVENT_TYPE_DESTROYED);

    // An unmodifiable view of a set built for this constant alone (or the empty NEW_VERSION),
    // which nothing mutates; Error Prone cannot see that through the Set type.
    @SuppressWarnings("ImmutableEnumChecker")
    private final Set<VersionStatus> from;

    private final VersionStatus to;
    private final KeyEventType event;

    Move(Set<VersionStatus> from, VersionStatus to, KeyEventType event) {
      this.from = Collections.unmodifiableSet(from);
      this.to = to;
      this.event = event;
    }

    /** The statuses the move starts from; empty for the moves of a new version. */
    public Set<VersionStatus> from() {
      return from;
    }

    /** The status the move ends in. */
    public VersionStatus to() {
      return to;
    }

    /** The event the move emits, once, for the version it moves. */
    public KeyEventType event() {
      return event;
    }

    /** Whether this is how a new version enters the lifecycle. */
    public boolean isEntry() {
      return from.isEmpty();
    }

    /** Whether a version whose stored status is {@code status} may make this move. */
    public boolean startsFrom(VersionStatus status) {
      return from.contains(status);
    }
  }

  /**
   * A version after a move: its record with the new status (and status reason), and the event the
   * move emits.
   */
  public record Moved(Move move, KeyVersionRecord version, KeyEventType event) {}

  private VersionLifecycle() {}

  /**
   * A new version entering the lifecycle: {@code version} (built without a status) as ENABLED,
   * through {@link Move#ENTER_ACTIVE} if it is primary at once, else {@link Move#ENTER_PENDING}.
   */
  public static Moved enter(KeyVersionRecord version, boolean activeNow) {
    Move move = activeNow ? Move.ENTER_ACTIVE : Move.ENTER_PENDING;
    return new Moved(move, version.toBuilder().setStatus(move.to()).build(), move.event());
  }

  /**
   * {@code version} after {@code move}, with {@code statusReason} as its status reason; empty when
   * the table has no such move from the version's status (see {@link #refusal} for the reason).
   */
  public static Optional<Moved> move(Move move, KeyVersionRecord version, String statusReason) {
    if (!move.startsFrom(version.getStatus())) {
      return Optional.empty();
    }
    KeyVersionRecord moved =
        version.toBuilder().setStatus(move.to()).setStatusReason(statusReason).build();
    return Optional.of(new Moved(move, moved, move.event()));
  }

  /**
   * The reason a command asking for {@code move} of a version whose status is {@code from} is
   * refused with, when the table has no such move (FAILED_PRECONDITION). A cancel, a destroy and a
   * destroy's cancel name what the version is not; the other moves name what the version is.
   */
  public static ErrorReason refusal(Move move, VersionStatus from) {
    return switch (move) {
      case CANCEL_PENDING -> ErrorReason.VERSION_NOT_PENDING;
      case DESTROY -> ErrorReason.DESTROY_NOT_DUE;
      case CANCEL_DESTROY ->
          from == VERSION_STATUS_DESTROYED
              ? ErrorReason.VERSION_DESTROYED
              : ErrorReason.DESTROY_NOT_SCHEDULED;
      default -> reasonOf(from);
    };
  }

  /** The reason that says a version is in {@code status}, for a move refused because of it. */
  private static ErrorReason reasonOf(VersionStatus status) {
    return switch (status) {
      case VERSION_STATUS_DISABLED -> ErrorReason.VERSION_DISABLED;
      case VERSION_STATUS_DESTROY_SCHEDULED -> ErrorReason.VERSION_DESTROY_SCHEDULED;
      case VERSION_STATUS_DESTROYED -> ErrorReason.VERSION_DESTROYED;
      case VERSION_STATUS_CANCELLED -> ErrorReason.VERSION_CANCELLED;
      default -> ErrorReason.REJECTED;
    };
  }
}
