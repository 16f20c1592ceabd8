package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.Limits;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.VersionHandler;
import io.keyrotor.storage.apply.VersionTarget;
import java.util.Optional;

/**
 * RollbackRotation: the primary is demoted from an effective time on, so the previous enabled
 * version is primary again. The demoted version keeps its status (it still decrypts): a rollback
 * changes derived states, not a stored status.
 */
public final class RollbackRotationHandler implements VersionHandler<RollbackRotation> {
  private final Limits limits;

  /** Refuses a reason longer than {@code limits} allow (it is stored, in the event and audit). */
  public RollbackRotationHandler(Limits limits) {
    this.limits = limits;
  }

  @Override
  public Effects apply(RollbackRotation rollback, VersionTarget target, CommandContext context) {
    String name = target.name();
    Optional<String> tooLong = Validation.checkReason(rollback.getReason(), limits.reasonBytes());
    if (tooLong.isPresent()) {
      return context.reject(
          ErrorReason.REQUEST_TOO_LARGE, Code.INVALID_ARGUMENT, tooLong.get(), name);
    }
    long effective = Math.max(context.time(), rollback.getEffectiveTimeUnixMillis());
    if (KeyVersions.primaryVersionAt(target.key(), context.time()) != target.number()) {
      return context.refuse(
          ErrorReason.VERSION_NOT_PRIMARY,
          target.subject() + " is not the primary; only the primary can be rolled back",
          name);
    }
    KeyVersionRecord demoted =
        target.version().toBuilder()
            .setDemotedTimeUnixMillis(effective)
            .setStatusReason(
                rollback.getReason().isEmpty()
                    ? "rolled back"
                    : "rolled back: " + rollback.getReason())
            .build();
    KeyRecord updated = context.replaceVersion(target.key(), demoted);
    int previous = KeyVersions.primaryVersionAt(updated, effective);
    if (previous == 0) {
      return context.refuse(
          ErrorReason.NO_PREVIOUS_VERSION,
          "key \"" + name + "\" has no earlier enabled version to fall back to; enable one first",
          name);
    }
    return context
        .ok(name, previous, 0, "rolled back to version " + previous)
        .writeKey(updated)
        .detail("version=" + target.number() + " effective=" + effective + " primary=" + previous)
        .event(
            context.event(
                KeyEventType.KEY_EVENT_TYPE_ROLLED_BACK,
                name,
                target.number(),
                "effective=" + effective + " primary=" + previous + " " + rollback.getReason()))
        .event(
            context.event(
                KeyEventType.KEY_EVENT_TYPE_ACTIVATED,
                name,
                previous,
                "by rollback, effective=" + effective))
        .build();
  }
}
