package io.keyrotor.storage.apply.version;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.VersionHandler;
import io.keyrotor.storage.apply.VersionTarget;

/**
 * RecordActivation: the leader noticed that a pending version became primary (its activation time
 * passed): ACTIVATED for it and SUPERSEDED for the version it replaced, once. Changes no status.
 */
public final class RecordActivationHandler implements VersionHandler<RecordActivation> {
  @Override
  public Effects apply(RecordActivation record, VersionTarget target, CommandContext context) {
    KeyVersionRecord v = target.version();
    KeyRecord key = target.key();
    String name = target.name();
    if (v.getActivationRecorded()) {
      return context.unchanged(target, "recorded already");
    }
    if (KeyVersions.primaryVersionAt(key, context.time()) != v.getVersion()) {
      return context.refuse(
          ErrorReason.VERSION_NOT_PRIMARY, target.subject() + " is not primary", name);
    }
    Effects.Builder effects =
        context
            .ok(target, "activation recorded")
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
