package io.keyrotor.storage.apply.version;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.VersionHandler;
import io.keyrotor.storage.apply.VersionTarget;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.Optional;

/**
 * DestroyVersion: erases the wrapped material of a version whose scheduled destroy time has come
 * (the leader proposes it then); destroying it again changes nothing.
 */
public final class DestroyVersionHandler implements VersionHandler<DestroyVersion> {
  @Override
  public Effects apply(DestroyVersion destroy, VersionTarget target, CommandContext context) {
    KeyVersionRecord v = target.version();
    if (v.getStatus() == VersionStatus.VERSION_STATUS_DESTROYED) {
      return context.unchanged(target, "destroyed already");
    }
    String notDue = target.subject() + " is not due for destruction";
    Optional<VersionLifecycle.Moved> moved = VersionLifecycle.move(Move.DESTROY, v, "destroyed");
    if (moved.isEmpty()) {
      return context.refuse(
          VersionLifecycle.refusal(Move.DESTROY, v.getStatus()), notDue, target.name());
    }
    if (v.getDestroyTimeUnixMillis() > context.time()) {
      return context.refuse(ErrorReason.DESTROY_NOT_DUE, notDue, target.name());
    }
    KeyVersionRecord updated = moved.get().version().toBuilder().clearKek().build();
    return context.versionMoved(target, updated, moved.get().event(), "destroyed");
  }
}
