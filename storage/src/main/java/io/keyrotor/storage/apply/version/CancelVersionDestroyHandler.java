package io.keyrotor.storage.apply.version;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.VersionHandler;
import io.keyrotor.storage.apply.VersionTarget;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.Optional;

/** CancelVersionDestroy: a scheduled destroy is called off; the version stays disabled. */
public final class CancelVersionDestroyHandler implements VersionHandler<CancelVersionDestroy> {
  @Override
  public Effects apply(CancelVersionDestroy cancel, VersionTarget target, CommandContext context) {
    Optional<VersionLifecycle.Moved> moved =
        VersionLifecycle.move(Move.CANCEL_DESTROY, target.version(), "destroy cancelled");
    if (moved.isEmpty()) {
      ErrorReason reason =
          VersionLifecycle.refusal(Move.CANCEL_DESTROY, target.version().getStatus());
      return context.refuse(
          reason,
          target.subject()
              + " is "
              + (reason == ErrorReason.VERSION_DESTROYED
                  ? "destroyed already"
                  : "not scheduled for destruction"),
          target.name());
    }
    KeyVersionRecord updated =
        moved.get().version().toBuilder()
            .clearDestroyTimeUnixMillis()
            .clearDestroyScheduledBy()
            .build();
    return context.versionMoved(target, updated, moved.get().event(), "destroy cancelled");
  }
}
