package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.Limits;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.VersionHandler;
import io.keyrotor.storage.apply.VersionTarget;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.Optional;

/**
 * CancelRotation: a pending version (waiting for its activation time or its validation gate) is
 * cancelled, by the gate once its deadline passed or by an operator; the primary stays, and the
 * key's schedule follows it again.
 */
public final class CancelRotationHandler implements VersionHandler<CancelRotation> {
  /** How soon a key whose scheduled rotation was cancelled is tried again (at most its period). */
  public static final long CANCELLED_RETRY_MILLIS = 60_000;

  private final Limits limits;

  /** Refuses a reason longer than {@code limits} allow (it is stored, in the event and audit). */
  public CancelRotationHandler(Limits limits) {
    this.limits = limits;
  }

  @Override
  public Effects apply(CancelRotation cancel, VersionTarget target, CommandContext context) {
    KeyVersionRecord v = target.version();
    String name = target.name();
    long time = context.time();
    Optional<String> tooLong = Validation.checkReason(cancel.getReason(), limits.reasonBytes());
    if (tooLong.isPresent()) {
      return context.reject(
          ErrorReason.REQUEST_TOO_LARGE, Code.INVALID_ARGUMENT, tooLong.get(), name);
    }
    if (v.getStatus() == VersionStatus.VERSION_STATUS_CANCELLED) {
      return context.unchanged(target, "cancelled already");
    }
    String reason = cancel.getReason().isEmpty() ? "cancelled" : cancel.getReason();
    Optional<VersionLifecycle.Moved> moved = VersionLifecycle.move(Move.CANCEL_PENDING, v, reason);
    String notPending =
        target.subject() + " is not pending; roll an activated version back instead";
    if (moved.isEmpty()) {
      return context.refuse(
          VersionLifecycle.refusal(Move.CANCEL_PENDING, v.getStatus()), notPending, name);
    }
    boolean eligible = KeyVersions.isEligible(v);
    if (v.getActivationTimeUnixMillis() <= time && eligible) {
      return context.refuse(ErrorReason.VERSION_NOT_PENDING, notPending, name);
    }
    if (cancel.getOnlyIfUnvalidated() && eligible && v.getValidationDeadlineUnixMillis() != 0) {
      return context.refuse(
          ErrorReason.VERSION_VALIDATED, target.subject() + " passed its validation gate", name);
    }
    KeyRecord.Builder changed =
        context.replaceVersion(target.key(), moved.get().version()).toBuilder();
    long period = target.key().getPolicy().getRotationPeriodMillis();
    if (period > 0) {
      // The schedule follows the version that stays primary again; if that makes the rotation
      // overdue (a scheduled rotation that failed its gate), it is tried again soon, not at once
      // and not a whole period later.
      KeyRecord restored = changed.build();
      int primary = KeyVersions.primaryVersionAt(restored, time);
      long fromPrimary =
          primary == 0
              ? 0
              : restored.getVersions(primary - 1).getActivationTimeUnixMillis() + period;
      changed.setNextRotationTimeUnixMillis(
          Math.max(fromPrimary, time + Math.min(CANCELLED_RETRY_MILLIS, period)));
    }
    return context
        .ok(target, "cancelled")
        .writeKey(changed.build())
        .detail("version=" + v.getVersion() + " reason=" + reason)
        .event(context.event(moved.get().event(), name, v.getVersion(), reason))
        .build();
  }
}
