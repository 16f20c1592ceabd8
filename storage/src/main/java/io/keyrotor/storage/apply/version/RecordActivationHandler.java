package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.Found;

/**
 * RecordActivation: the leader noticed that a pending version became primary (its activation time
 * passed): ACTIVATED for it and SUPERSEDED for the version it replaced, once. Changes no status.
 */
public final class RecordActivationHandler {
  public Effects apply(RecordActivation record, CommandContext context) {
    Found found = context.findVersion(record.getName(), record.getVersion());
    if (found.isMissing()) {
      return found.rejection();
    }
    KeyVersionRecord v = found.version();
    KeyRecord key = found.key();
    String name = found.name();
    if (v.getActivationRecorded()) {
      return context.unchanged(name, v.getVersion(), "recorded already");
    }
    if (KeyVersions.primaryVersionAt(key, context.time()) != v.getVersion()) {
      return context.reject(
          ErrorReason.VERSION_NOT_PRIMARY,
          Code.FAILED_PRECONDITION,
          "version " + v.getVersion() + " of key \"" + name + "\" is not primary",
          name);
    }
    Effects.Builder effects =
        context
            .ok(name, v.getVersion(), 0, "activation recorded")
            .writeKey(
                context.replaceVersion(key, v.toBuilder().setActivationRecorded(true).build()))
            .detail("version=" + v.getVersion())
            .event(
                context.event(
                    KeyEventType.KEY_EVENT_TYPE_ACTIVATED,
                    name,
                    v.getVersion(),
                    v.getRotationReason(),
                    "activation=" + v.getActivationTimeUnixMillis()));
    for (int i = v.getVersion() - 2; i >= 0; i--) {
      KeyVersionRecord older = key.getVersions(i);
      if (older.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
          && KeyVersions.isEligible(older)) {
        effects.event(
            context.event(
                KeyEventType.KEY_EVENT_TYPE_SUPERSEDED,
                name,
                older.getVersion(),
                v.getRotationReason(),
                "by version " + v.getVersion()));
        break;
      }
    }
    return effects.build();
  }
}
