package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.Found;

/**
 * RollbackRotation: the primary is demoted from an effective time on, so the previous enabled
 * version is primary again. The demoted version keeps its status (it still decrypts): a rollback
 * changes derived states, not a stored status.
 */
public final class RollbackRotationHandler {
  public Effects apply(RollbackRotation rollback, CommandContext context) {
    Found found = context.findVersion(rollback.getName(), rollback.getVersion());
    if (found.isMissing()) {
      return found.rejection();
    }
    KeyVersionRecord v = found.version();
    KeyRecord key = found.key();
    String name = found.name();
    long effective = Math.max(context.time(), rollback.getEffectiveTimeUnixMillis());
    if (KeyVersions.primaryVersionAt(key, context.time()) != v.getVersion()) {
      return context.reject(
          ErrorReason.VERSION_NOT_PRIMARY,
          Code.FAILED_PRECONDITION,
          "version "
              + v.getVersion()
              + " of key \""
              + name
              + "\" is not the primary; only the primary can be rolled back",
          name);
    }
    KeyVersionRecord demoted =
        v.toBuilder()
            .setDemotedTimeUnixMillis(effective)
            .setStatusReason(
                rollback.getReason().isEmpty()
                    ? "rolled back"
                    : "rolled back: " + rollback.getReason())
            .build();
    KeyRecord updated = context.replaceVersion(key, demoted);
    int previous = KeyVersions.primaryVersionAt(updated, effective);
    if (previous == 0) {
      return context.reject(
          ErrorReason.NO_PREVIOUS_VERSION,
          Code.FAILED_PRECONDITION,
          "key \"" + name + "\" has no earlier enabled version to fall back to; enable one first",
          name);
    }
    return context
        .ok(name, previous, 0, "rolled back to version " + previous)
        .writeKey(updated)
        .detail("version=" + v.getVersion() + " effective=" + effective + " primary=" + previous)
        .event(
            context.event(
                KeyEventType.KEY_EVENT_TYPE_ROLLED_BACK,
                name,
                v.getVersion(),
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
