package io.keyrotor.storage.apply.zone;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.util.ArrayList;
import java.util.List;

/**
 * Which KEKs of a zone are still wrapped under an older zone master key version than a rotation's
 * target: what the node driving a rotation rewraps next, and what apply counts as remaining.
 * Destroyed versions (no KEK) are never counted.
 */
public final class ZoneMasterKeyRewraps {
  /** Most entries in one rewrap batch (keeps one log entry small). */
  public static final int MAX_REWRAPS_PER_BATCH = 1_000;

  private ZoneMasterKeyRewraps() {}

  /** A KEK (one key version) of a zone still wrapped under an older ZMK version. */
  public record PendingRewrap(String keyName, int version, WrappedKeyMaterial kek) {}

  /**
   * The KEKs of {@code zone} wrapped under a ZMK version below {@code targetVersion}, in key name
   * and version order, at most {@code limit}.
   */
  public static List<PendingRewrap> pending(
      Iterable<KeyRecord> keys, String zone, int targetVersion, int limit) {
    List<PendingRewrap> out = new ArrayList<>();
    for (KeyRecord key : keys) {
      if (!key.getZone().equals(zone)) {
        continue;
      }
      for (KeyVersionRecord version : key.getVersionsList()) {
        if (out.size() >= limit) {
          return out;
        }
        if (isBelow(version, targetVersion)) {
          out.add(new PendingRewrap(key.getName(), version.getVersion(), version.getKek()));
        }
      }
    }
    return out;
  }

  /** How many KEKs of {@code zone} are wrapped under a ZMK version below {@code targetVersion}. */
  public static long countBelow(Iterable<KeyRecord> keys, String zone, int targetVersion) {
    long count = 0;
    for (KeyRecord key : keys) {
      if (key.getZone().equals(zone)) {
        for (KeyVersionRecord version : key.getVersionsList()) {
          if (isBelow(version, targetVersion)) {
            count++;
          }
        }
      }
    }
    return count;
  }

  /** Whether {@code version} has a KEK and it is wrapped under a ZMK version below the target. */
  static boolean isBelow(KeyVersionRecord version, int targetVersion) {
    return hasKek(version) && version.getKek().getZoneMasterKeyVersion() < targetVersion;
  }

  /** Whether {@code version} still has its wrapped KEK (it was not destroyed). */
  static boolean hasKek(KeyVersionRecord version) {
    return version.hasKek() && !version.getKek().getCiphertext().isEmpty();
  }
}
