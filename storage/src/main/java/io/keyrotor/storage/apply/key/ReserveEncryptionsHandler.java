package io.keyrotor.storage.apply.key;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.ReserveEncryptions;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.EncryptionLimits;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.VersionHandler;
import io.keyrotor.storage.apply.VersionTarget;

/**
 * ReserveEncryptions: a block of encryptions under one version for one node, granted whole only if
 * the version's counted encryptions plus the block stay within its limit ({@link
 * EncryptionLimits}). A refusal changes nothing; the node asks again for what is left, or the data
 * plane moves to the next version. The block counts as used from the moment it is granted, so a
 * node that crashes with part of it unused can only make the count too high, never too low.
 */
public final class ReserveEncryptionsHandler implements VersionHandler<ReserveEncryptions> {
  @Override
  public Effects apply(ReserveEncryptions reserve, VersionTarget target, CommandContext context) {
    KeyVersionRecord version = target.version();
    long limit = EncryptionLimits.limit(target.key());
    long count = reserve.getCount();
    String where = "version " + target.number() + " of key \"" + target.name() + "\"";
    if (count <= 0 || count > limit) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT,
          Code.INVALID_ARGUMENT,
          "a reservation under "
              + where
              + " asks for "
              + Long.toUnsignedString(count)
              + " encryptions; it must be 1 to the version's limit "
              + limit,
          target.name());
    }
    if (version.getStatus() != VersionStatus.VERSION_STATUS_ENABLED || !version.hasKek()) {
      return context.refuse(
          ErrorReason.VERSION_DISABLED,
          where + " is not enabled; nothing is reserved under it",
          target.name());
    }
    long counted = EncryptionLimits.counted(version);
    if (count > limit - counted) {
      return context.reject(
          ErrorReason.ENCRYPTION_LIMIT_REACHED,
          Code.RESOURCE_EXHAUSTED,
          where
              + " has "
              + Math.max(0, limit - counted)
              + " of its "
              + limit
              + " encryptions left; "
              + count
              + " were asked for",
          target.name());
    }
    KeyVersionRecord.Builder reserved =
        version.toBuilder().setReservedEncryptions(version.getReservedEncryptions() + count);
    if (version.getFirstReservationTimeUnixMillis() == 0) {
      reserved.setFirstReservationTimeUnixMillis(context.time());
    }
    return context
        .ok(target, "reserved " + count)
        .writeKey(context.replaceVersion(target.key(), reserved.build()))
        .detail(
            "node="
                + reserve.getNode()
                + " version="
                + target.number()
                + " count="
                + count
                + " counted="
                + (counted + count)
                + " limit="
                + limit)
        .build();
  }
}
