package io.keyrotor.server.hsm;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.proto.internal.v1.KekRewrap;
import io.keyrotor.proto.internal.v1.RewrapKeks;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.apply.zone.ZoneMasterKeyRewraps;
import io.keyrotor.storage.apply.zone.ZoneMasterKeyRewraps.PendingRewrap;
import java.util.ArrayList;
import java.util.List;

/**
 * One batch of a zone master key rotation as the driving node builds it: the next KEKs of the zone
 * still under an older master key version, each unwrapped through this node's HSM and wrapped again
 * under the target version, checked.
 *
 * <p>Each entry is checked before it enters the batch: the stored wrapping must unwrap to the KEK
 * its key check value names ({@link KekChecks}; a version stored without one gets one here), and
 * the new wrapping must unwrap, under the target version, to that same KEK. An entry that fails is
 * left out (and reported), so an HSM that wraps wrongly never gets a wrapping into the log; the KEK
 * stays under its old version and a later batch tries again. The plaintext KEK exists only inside
 * {@link #rewrap} and is zeroed before it returns.
 *
 * @param command the entries that passed, to propose (none: propose nothing)
 * @param failures one message per entry left out (never key material)
 * @param checkFailures how many of those failed a key check value
 */
public record RewrapBatch(RewrapKeks command, List<String> failures, int checkFailures) {

  /** The next batch of at most {@code limit} entries for the rotation of {@code zone}. */
  public static RewrapBatch build(Hsm hsm, StateView state, String zone, int target, int limit) {
    List<PendingRewrap> pending =
        ZoneMasterKeyRewraps.pending(state.allKeys(), zone, target, limit);
    RewrapKeks.Builder batch = RewrapKeks.newBuilder().setZone(zone).setTargetVersion(target);
    List<String> failures = new ArrayList<>();
    int checkFailures = 0;
    for (PendingRewrap entry : pending) {
      try {
        batch.addRewraps(
            KekRewrap.newBuilder()
                .setKeyName(entry.keyName())
                .setVersion(entry.version())
                .setExpectedZoneMasterKeyVersion(entry.kek().getZoneMasterKeyVersion())
                .setKek(rewrap(hsm, zone, entry, target)));
      } catch (HsmException | IllegalArgumentException e) {
        if (e instanceof HsmException hsmFailure
            && hsmFailure.reason() == HsmException.Reason.KEK_CHECK_FAILED) {
          checkFailures++;
        }
        failures.add(
            "cannot rewrap key \""
                + entry.keyName()
                + "\" version "
                + entry.version()
                + " from "
                + zone
                + "/"
                + entry.kek().getZoneMasterKeyVersion()
                + " to "
                + zone
                + "/"
                + target
                + ": "
                + e.getMessage());
      }
    }
    return new RewrapBatch(batch.build(), List.copyOf(failures), checkFailures);
  }

  /** The same KEK wrapped under {@code zone/target}, checked (see the class comment). */
  private static WrappedKeyMaterial rewrap(Hsm hsm, String zone, PendingRewrap entry, int target)
      throws HsmException {
    WrappedKeyMaterial old = entry.kek();
    String name = entry.keyName();
    int version = entry.version();
    try (SecretKeyBytes kek = KekChecks.unwrapChecked(hsm, old, zone, name, version)) {
      WrappedKeyMaterial wrapped = WrappedKeyRecords.toRecord(hsm.wrap(zone, target, kek));
      WrappedKeyMaterial rewrapped =
          old.getKeyCheck().isEmpty()
              ? KekChecks.bind(wrapped, kek, name, version)
              : wrapped.toBuilder()
                  .setKeyCheck(old.getKeyCheck())
                  .setKeyCheckVersion(old.getKeyCheckVersion())
                  .build();
      KekChecks.requireUnwrapsToBoundKey(hsm, rewrapped, zone, name, version);
      return rewrapped;
    }
  }
}
