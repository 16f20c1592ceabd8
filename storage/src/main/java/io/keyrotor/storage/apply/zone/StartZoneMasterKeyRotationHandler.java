package io.keyrotor.storage.apply.zone;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.StartZoneMasterKeyRotation;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRotationState;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.Optional;

/**
 * StartZoneMasterKeyRotation(zone, n+1): records the job (RUNNING) and how many KEK versions of the
 * zone are still under an older ZMK version; a zone with none completes at once. Restarting the
 * current target picks up KEKs created under an older version since; a lower target is refused.
 */
public final class StartZoneMasterKeyRotationHandler
    implements CommandHandler<StartZoneMasterKeyRotation> {
  @Override
  public Effects apply(StartZoneMasterKeyRotation start, CommandContext context) {
    String zone = start.getZone();
    Optional<String> invalid = Validation.checkZoneName(zone);
    if (invalid.isPresent()) {
      return context.reject(ErrorReason.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, invalid.get(), "");
    }
    int target = start.getTargetVersion();
    if (target < 2) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT,
          Code.INVALID_ARGUMENT,
          "a zone master key rotation moves KEKs to version 2 or later, not " + target,
          "");
    }
    Optional<ZoneMasterKeyRecord> existing = context.state().zoneMasterKey(zone);
    if (existing.isPresent() && existing.get().getRetiredVersionsList().contains(target)) {
      return context.refuse(
          ErrorReason.ZMK_VERSION_RETIRED,
          "master key version " + target + " of zone \"" + zone + "\" is retired",
          "");
    }
    if (existing.isPresent() && target < existing.get().getTargetVersion()) {
      return context.refuse(
          ErrorReason.ZMK_VERSION_NOT_NEWER,
          "zone \""
              + zone
              + "\" was already rotated to master key version "
              + existing.get().getTargetVersion()
              + "; a rotation cannot go back to "
              + target,
          "");
    }
    int newestInUse = 0;
    for (KeyRecord key : context.state().keys()) {
      if (key.getZone().equals(zone)) {
        for (KeyVersionRecord version : key.getVersionsList()) {
          if (ZoneMasterKeyRewraps.hasKek(version)) {
            newestInUse = Math.max(newestInUse, version.getKek().getZoneMasterKeyVersion());
          }
        }
      }
    }
    if (newestInUse > target) {
      return context.refuse(
          ErrorReason.ZMK_VERSION_NOT_NEWER,
          "KEKs of zone \""
              + zone
              + "\" are already wrapped under master key version "
              + newestInUse
              + ", newer than "
              + target,
          "");
    }
    long total = ZoneMasterKeyRewraps.countBelow(context.state().keys(), zone, target);
    ZoneMasterKeyRecord.Builder record =
        existing.map(ZoneMasterKeyRecord::toBuilder).orElseGet(ZoneMasterKeyRecord::newBuilder);
    record
        .setZone(zone)
        .setTargetVersion(target)
        .setFromVersion(newestInUse == target ? target - 1 : Math.max(1, newestInUse))
        .setStartedTimeUnixMillis(context.time())
        .setStartedByRequestId(context.command().getRequestId())
        .setRewrapped(0)
        .setBatches(0)
        .setSkipped(0)
        .setRemaining(total);
    if (total == 0) {
      record
          .setRotationState(ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED)
          .setCompletedTimeUnixMillis(context.time());
    } else {
      record
          .setRotationState(ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING)
          .setCompletedTimeUnixMillis(0);
    }
    return context
        .ok("", target, 0, total == 0 ? "nothing to rewrap: completed" : "started")
        .writeZoneMasterKey(record.build())
        .detail("zone=" + zone + " target=" + target + " kek_versions=" + total)
        .build();
  }
}
