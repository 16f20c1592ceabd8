package io.keyrotor.storage.apply.key;

import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.storage.apply.CommandContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rules the key handlers share: when a key rotates next (its policy, an explicit anchor, the keys
 * that depend on it) and what a version's key material must carry.
 */
final class KeySchedule {
  private KeySchedule() {}

  /**
   * When the policy next rotates a key whose newest version activates at {@code activation}: the
   * explicit anchor if one is set and still ahead of {@code time}, else activation + period; 0 for
   * no schedule.
   */
  static long nextRotationTime(RotationPolicyRecord policy, long activation, long time) {
    long anchor = policy.getNextRotationTimeUnixMillis();
    if (anchor > time) {
      return anchor;
    }
    return policy.getRotationPeriodMillis() > 0 ? activation + policy.getRotationPeriodMillis() : 0;
  }

  /**
   * The schedule of {@code key} after a rotation that took effect at {@code effectiveTime} and
   * activates at {@code activation}: an anchor that was due is used up, and the next rotation
   * follows the new version.
   */
  static void afterRotation(KeyRecord.Builder key, long activation, long effectiveTime) {
    RotationPolicyRecord policy = key.getPolicy();
    if (policy.getNextRotationTimeUnixMillis() != 0
        && policy.getNextRotationTimeUnixMillis() <= effectiveTime) {
      policy = policy.toBuilder().clearNextRotationTimeUnixMillis().build();
      key.setPolicy(policy);
    }
    key.setNextRotationTimeUnixMillis(nextRotationTime(policy, activation, effectiveTime));
  }

  /**
   * The keys that depend on {@code key}, marked due now and asked for by it: they rotate after it,
   * when the scheduler next looks.
   */
  static List<KeyRecord> dependentsDueNow(KeyRecord key, CommandContext context) {
    List<KeyRecord> dependents = new ArrayList<>();
    for (String name : key.getDependentsList()) {
      context
          .state()
          .key(name)
          .ifPresent(
              dependent ->
                  dependents.add(
                      dependent.toBuilder()
                          .setRotationRequestedBy(key.getName())
                          .setRotationRequestedReason(
                              RotationReason.ROTATION_REASON_DEPENDENCY_VALUE)
                          .setNextRotationTimeUnixMillis(context.time())
                          .setRevision(context.index())
                          .build()));
    }
    return dependents;
  }

  /** Bytes of a key check value stored with wrapped key material. */
  static final int KEY_CHECK_LENGTH = 16;

  /** Why {@code kek} cannot be a version's material in {@code zone}, or empty if it can. */
  static Optional<String> checkMaterial(WrappedKeyMaterial kek, String zone) {
    if (kek.getCiphertext().isEmpty()) {
      return Optional.of("the command carries no wrapped key material");
    }
    if (!kek.getZone().equals(zone)) {
      return Optional.of(
          "key material is wrapped for zone \"" + kek.getZone() + "\", not \"" + zone + "\"");
    }
    int checkLength = kek.getKeyCheck().size();
    if (checkLength != 0 && checkLength != KEY_CHECK_LENGTH) {
      return Optional.of(
          "the key check value is " + checkLength + " bytes, not " + KEY_CHECK_LENGTH);
    }
    if ((checkLength == 0) != (kek.getKeyCheckVersion() == 0)) {
      return Optional.of("a key check value and the version it is bound to come together");
    }
    return Optional.empty();
  }

  /**
   * Whether {@code kek} may become version {@code version}: material without a check value (minted
   * before check values existed) may, bound material only for the version it is bound to.
   */
  static boolean boundTo(WrappedKeyMaterial kek, int version) {
    return kek.getKeyCheck().isEmpty() || kek.getKeyCheckVersion() == version;
  }
}
