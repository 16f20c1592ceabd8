package io.keyrotor.storage.apply.zone;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KekRewrap;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RewrapKeks;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRotationState;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * RewrapKeks: one batch of a running zone master key rotation replaces wrapped KEKs with the same
 * KEKs wrapped under the target version. Each entry is a compare-and-set on the KEK's current ZMK
 * version, so a duplicate batch (a deposed leader's) changes nothing; when no KEK of the zone is
 * left under an older version the job is COMPLETED.
 *
 * <p>The proposer checked each new wrapping against the KEK's key check value before proposing;
 * apply checks, without any cryptography, that the entry carries the very check value the stored
 * version has (and, for a version stored without one, a check value bound to that version, which
 * the version then keeps). A batch with one entry that does not is refused whole: a proposer that
 * sends a wrong check value is faulty, and none of its wrappings is trusted.
 */
public final class RewrapKeksHandler implements CommandHandler<RewrapKeks> {
  private static final int KEY_CHECK_LENGTH = 16;

  @Override
  public Effects apply(RewrapKeks batch, CommandContext context) {
    String zone = batch.getZone();
    int target = batch.getTargetVersion();
    Optional<ZoneMasterKeyRecord> existing = context.state().zoneMasterKey(zone);
    if (existing.isEmpty()
        || existing.get().getRotationState()
            != ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING
        || existing.get().getTargetVersion() != target) {
      return context.reject(
          ErrorReason.ZMK_ROTATION_NOT_RUNNING,
          Code.FAILED_PRECONDITION,
          "no rotation of zone \"" + zone + "\" to master key version " + target + " is running",
          "");
    }
    if (batch.getRewrapsCount() > ZoneMasterKeyRewraps.MAX_REWRAPS_PER_BATCH) {
      return context.reject(
          ErrorReason.BATCH_TOO_LARGE,
          Code.INVALID_ARGUMENT,
          "a rewrap batch holds at most " + ZoneMasterKeyRewraps.MAX_REWRAPS_PER_BATCH + " entries",
          "");
    }
    Map<String, KeyRecord.Builder> changed = new LinkedHashMap<>();
    long applied = 0;
    long skipped = 0;
    for (KekRewrap entry : batch.getRewrapsList()) {
      WrappedKeyMaterial kek = entry.getKek();
      if (!kek.getZone().equals(zone)
          || kek.getZoneMasterKeyVersion() != target
          || kek.getCiphertext().isEmpty()
          || kek.getMechanism().isEmpty()) {
        return context.reject(
            ErrorReason.INVALID_ARGUMENT,
            Code.INVALID_ARGUMENT,
            "rewrap entry for key \""
                + entry.getKeyName()
                + "\" version "
                + entry.getVersion()
                + " does not carry key material wrapped under "
                + zone
                + "/"
                + target,
            "");
      }
      KeyRecord.Builder key = changed.get(entry.getKeyName());
      if (key == null) {
        Optional<KeyRecord> found = context.state().key(entry.getKeyName());
        if (found.isEmpty() || !found.get().getZone().equals(zone)) {
          skipped++;
          continue;
        }
        key = found.get().toBuilder();
      }
      int position = entry.getVersion() - 1;
      if (position < 0 || position >= key.getVersionsCount()) {
        skipped++;
        continue;
      }
      KeyVersionRecord version = key.getVersions(position);
      if (!ZoneMasterKeyRewraps.hasKek(version)
          || version.getKek().getZoneMasterKeyVersion() != entry.getExpectedZoneMasterKeyVersion()
          || entry.getExpectedZoneMasterKeyVersion() >= target) {
        skipped++; // moved already (a duplicate batch), destroyed, or not what the proposer saw
        continue;
      }
      if (!sameBinding(version, kek)) {
        return context.reject(
            ErrorReason.KEK_CHECK_FAILED,
            Code.DATA_LOSS,
            "rewrap entry for key \""
                + entry.getKeyName()
                + "\" version "
                + entry.getVersion()
                + " does not carry the key check value stored with that version; the batch is"
                + " refused and no key-encryption key changed",
            "");
      }
      key.setVersions(position, version.toBuilder().setKek(kek).build());
      key.setRevision(context.index());
      changed.put(entry.getKeyName(), key);
      applied++;
    }
    Map<String, KeyRecord> written = new LinkedHashMap<>();
    changed.values().forEach(builder -> written.put(builder.getName(), builder.build()));
    // Counted over the keys as they are read, the batch's records in place of theirs: no list of
    // every key is built.
    Iterable<KeyRecord> after =
        () ->
            java.util.stream.StreamSupport.stream(context.state().keys().spliterator(), false)
                .map(key -> written.getOrDefault(key.getName(), key))
                .iterator();
    long remaining = ZoneMasterKeyRewraps.countBelow(after, zone, target);
    ZoneMasterKeyRecord.Builder record =
        existing.get().toBuilder()
            .setRewrapped(existing.get().getRewrapped() + applied)
            .setSkipped(existing.get().getSkipped() + skipped)
            .setBatches(existing.get().getBatches() + 1)
            .setRemaining(remaining);
    if (remaining == 0) {
      record
          .setRotationState(ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED)
          .setCompletedTimeUnixMillis(context.time());
    }
    String counts = "rewrapped=" + applied + " skipped=" + skipped + " remaining=" + remaining;
    return context
        .ok(
            "",
            target,
            0,
            "rewrapped " + applied + ", skipped " + skipped + ", remaining " + remaining)
        .writeKeys(written.values())
        .writeZoneMasterKey(record.build())
        .detail("zone=" + zone + " target=" + target + " " + counts)
        .build();
  }

  /**
   * Whether {@code replacement} is bound to the same KEK as the stored {@code version}: the same
   * check value and bound version, or, for a version stored without a check value, a check value
   * bound to this version.
   */
  private static boolean sameBinding(KeyVersionRecord version, WrappedKeyMaterial replacement) {
    WrappedKeyMaterial stored = version.getKek();
    if (stored.getKeyCheck().isEmpty()) {
      return replacement.getKeyCheck().isEmpty()
          ? replacement.getKeyCheckVersion() == 0
          : replacement.getKeyCheck().size() == KEY_CHECK_LENGTH
              && replacement.getKeyCheckVersion() == version.getVersion();
    }
    return stored.getKeyCheck().equals(replacement.getKeyCheck())
        && stored.getKeyCheckVersion() == replacement.getKeyCheckVersion();
  }
}
