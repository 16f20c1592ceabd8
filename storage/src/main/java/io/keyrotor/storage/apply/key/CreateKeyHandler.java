package io.keyrotor.storage.apply.key;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.storage.Limits;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.lifecycle.VersionLifecycle;
import java.util.Optional;

/** CreateKey: a new key whose version 1 enters the lifecycle, active now or at its activation. */
public final class CreateKeyHandler implements CommandHandler<CreateKey> {
  private final Limits limits;

  /** Refuses a key beyond {@code limits}' keys per cluster and per zone. */
  public CreateKeyHandler(Limits limits) {
    this.limits = limits;
  }

  @Override
  public Effects apply(CreateKey create, CommandContext context) {
    String name = create.getName();
    Optional<String> invalid =
        Validation.checkKeyName(name)
            .or(() -> Validation.checkZoneName(create.getZone()))
            .or(() -> Validation.checkLabels(create.getLabelsList()))
            .or(() -> Validation.checkPolicy(create.getPolicy()))
            .or(() -> KeySchedule.checkMaterial(create.getKek(), create.getZone()))
            .or(
                () ->
                    KeySchedule.boundTo(create.getKek(), 1)
                        ? Optional.empty()
                        : Optional.of("the key-encryption key is not bound to version 1"));
    if (invalid.isPresent()) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, invalid.get(), name);
    }
    if (context.state().key(name).isPresent()) {
      return context.reject(
          ErrorReason.KEY_EXISTS, Code.ALREADY_EXISTS, "key \"" + name + "\" already exists", name);
    }
    if (context.state().keyCount() >= limits.keysPerCluster()) {
      return context.reject(
          ErrorReason.TOO_MANY_KEYS,
          Code.RESOURCE_EXHAUSTED,
          "the cluster holds " + limits.keysPerCluster() + " keys, the most it allows",
          name);
    }
    if (context.state().keyCountInZone(create.getZone()) >= limits.keysPerZone()) {
      return context.reject(
          ErrorReason.TOO_MANY_KEYS_IN_ZONE,
          Code.RESOURCE_EXHAUSTED,
          "zone \""
              + create.getZone()
              + "\" holds "
              + limits.keysPerZone()
              + " keys, the most it allows",
          name);
    }
    long time = context.time();
    long activation = Math.max(time, create.getActivationTimeUnixMillis());
    boolean activeNow = activation <= time;
    VersionLifecycle.Moved first =
        VersionLifecycle.enter(
            KeyVersionRecord.newBuilder()
                .setVersion(1)
                .setCreateTimeUnixMillis(time)
                .setActivationTimeUnixMillis(activation)
                .setKek(create.getKek())
                .setRotationReason(RotationReason.ROTATION_REASON_UNSPECIFIED_VALUE)
                .setCreatedByRequestId(context.command().getRequestId())
                .setActivationRecorded(activeNow)
                .build(),
            activeNow);
    KeyRecord key =
        KeyRecord.newBuilder()
            .setName(name)
            .setZone(create.getZone())
            .addAllLabels(create.getLabelsList())
            .setCreateTimeUnixMillis(time)
            .addVersions(first.version())
            .setPolicy(create.getPolicy())
            .setRevision(context.index())
            .setNextRotationTimeUnixMillis(
                KeySchedule.nextRotationTime(create.getPolicy(), activation, time))
            .build();
    return context
        .ok(name, 1, activation, "created")
        .writeKey(key)
        .detail("zone=" + create.getZone() + " activation=" + activation)
        .event(
            context.event(KeyEventType.KEY_EVENT_TYPE_CREATED, name, 1, "zone=" + create.getZone()))
        .event(context.event(first.event(), name, 1, "activation=" + activation))
        .build();
  }
}
