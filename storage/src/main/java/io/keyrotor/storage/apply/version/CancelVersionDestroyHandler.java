package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.Found;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.Optional;

/** CancelVersionDestroy: a scheduled destroy is called off; the version stays disabled. */
public final class CancelVersionDestroyHandler {
  public Effects apply(CancelVersionDestroy cancel, CommandContext context) {
    Found found = context.findVersion(cancel.getName(), cancel.getVersion());
    if (found.isMissing()) {
      return found.rejection();
    }
    KeyVersionRecord v = found.version();
    String name = found.name();
    Optional<VersionLifecycle.Moved> moved =
        VersionLifecycle.move(Move.CANCEL_DESTROY, v, "destroy cancelled");
    if (moved.isEmpty()) {
      ErrorReason reason = VersionLifecycle.refusal(Move.CANCEL_DESTROY, v.getStatus());
      return context.reject(
          reason,
          Code.FAILED_PRECONDITION,
          "version "
              + v.getVersion()
              + " of key \""
              + name
              + "\" is "
              + (reason == ErrorReason.VERSION_DESTROYED
                  ? "destroyed already"
                  : "not scheduled for destruction"),
          name);
    }
    KeyVersionRecord updated =
        moved.get().version().toBuilder().clearDestroyTimeUnixMillis().build();
    return context
        .ok(name, v.getVersion(), 0, "destroy cancelled")
        .writeKey(context.replaceVersion(found.key(), updated))
        .detail("version=" + v.getVersion())
        .event(context.event(moved.get().event(), name, v.getVersion(), ""))
        .build();
  }
}
