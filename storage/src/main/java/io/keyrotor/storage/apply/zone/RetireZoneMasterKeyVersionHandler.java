package io.keyrotor.storage.apply.zone;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RetireZoneMasterKeyVersion;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRotationState;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * RetireZoneMasterKeyVersion(zone, v): records that an operator retired v, refused while a rotation
 * of the zone runs or any KEK of the zone is wrapped under v; retiring it again changes nothing.
 */
public final class RetireZoneMasterKeyVersionHandler
    implements CommandHandler<RetireZoneMasterKeyVersion> {
  @Override
  public Effects apply(RetireZoneMasterKeyVersion retire, CommandContext context) {
    String zone = retire.getZone();
    int version = retire.getVersion();
    Optional<String> invalid = Validation.checkZoneName(zone);
    if (invalid.isPresent()) {
      return context.reject(ErrorReason.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, invalid.get(), "");
    }
    Optional<ZoneMasterKeyRecord> existing = context.state().zoneMasterKey(zone);
    if (existing.isEmpty() || version < 1 || version >= existing.get().getTargetVersion()) {
      return context.refuse(
          ErrorReason.ZMK_VERSION_CURRENT,
          "master key version "
              + version
              + " of zone \""
              + zone
              + "\" is not older than the version its KEKs were rotated to"
              + existing.map(r -> " (" + r.getTargetVersion() + ")").orElse(" (never rotated)"),
          "");
    }
    ZoneMasterKeyRecord record = existing.get();
    if (record.getRotationState()
        == ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING) {
      return context.refuse(
          ErrorReason.ZMK_ROTATION_RUNNING,
          "the rotation of zone \""
              + zone
              + "\" to master key version "
              + record.getTargetVersion()
              + " is still running ("
              + record.getRemaining()
              + " KEKs to go)",
          "");
    }
    long inUse = 0;
    for (KeyRecord key : context.state().keys()) {
      if (key.getZone().equals(zone)) {
        for (KeyVersionRecord v : key.getVersionsList()) {
          if (ZoneMasterKeyRewraps.hasKek(v) && v.getKek().getZoneMasterKeyVersion() == version) {
            inUse++;
          }
        }
      }
    }
    if (inUse > 0) {
      return context.refuse(
          ErrorReason.ZMK_VERSION_IN_USE,
          inUse
              + " KEK version(s) of zone \""
              + zone
              + "\" are still wrapped under master key version "
              + version
              + "; rotate the zone again to move them first",
          "");
    }
    if (record.getRetiredVersionsList().contains(version)) {
      return context
          .ok("", version, 0, "already retired")
          .detail("zone=" + zone + " version=" + version + " unchanged")
          .build();
    }
    TreeSet<Integer> retired = new TreeSet<>(record.getRetiredVersionsList());
    retired.add(version);
    return context
        .ok("", version, 0, "retired")
        .writeZoneMasterKey(
            record.toBuilder().clearRetiredVersions().addAllRetiredVersions(retired).build())
        .detail("zone=" + zone + " version=" + version)
        .build();
  }
}
