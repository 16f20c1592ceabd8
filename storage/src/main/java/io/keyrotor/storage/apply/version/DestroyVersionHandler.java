package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.Found;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.Optional;

/**
 * DestroyVersion: erases the wrapped material of a version whose scheduled destroy time has come
 * (the leader proposes it then); destroying it again changes nothing.
 */
public final class DestroyVersionHandler {
  public Effects apply(DestroyVersion destroy, CommandContext context) {
    Found found = context.findVersion(destroy.getName(), destroy.getVersion());
    if (found.isMissing()) {
      return found.rejection();
    }
    KeyVersionRecord v = found.version();
    String name = found.name();
    if (v.getStatus() == VersionStatus.VERSION_STATUS_DESTROYED) {
      return context.unchanged(name, v.getVersion(), "destroyed already");
    }
    String notDue =
        "version " + v.getVersion() + " of key \"" + name + "\" is not due for destruction";
    Optional<VersionLifecycle.Moved> moved = VersionLifecycle.move(Move.DESTROY, v, "destroyed");
    if (moved.isEmpty()) {
      return context.reject(
          VersionLifecycle.refusal(Move.DESTROY, v.getStatus()),
          Code.FAILED_PRECONDITION,
          notDue,
          name);
    }
    if (v.getDestroyTimeUnixMillis() > context.time()) {
      return context.reject(ErrorReason.DESTROY_NOT_DUE, Code.FAILED_PRECONDITION, notDue, name);
    }
    KeyVersionRecord updated = moved.get().version().toBuilder().clearKek().build();
    return context
        .ok(name, v.getVersion(), 0, "destroyed")
        .writeKey(context.replaceVersion(found.key(), updated))
        .detail("version=" + v.getVersion())
        .event(context.event(moved.get().event(), name, v.getVersion(), ""))
        .build();
  }
}
