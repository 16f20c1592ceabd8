package io.keyrotor.server.rotation;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.hsm.KekChecks;
import io.keyrotor.server.hsm.WrappedKeyRecords;

/**
 * Issues new key-encryption keys: 32 random bytes from the HSM, wrapped by the HSM under the zone's
 * current master key, with the key check value that binds them to the key version they are for
 * ({@link KekChecks}). The plaintext exists only inside {@link #newWrappedKek} and is zeroed before
 * it returns; only the wrapped bytes enter the log.
 *
 * <p>The wrapping is checked before it is handed out: the HSM unwraps it again and the result must
 * match the check value, so an HSM that wraps a wrong key fails the write instead of storing a KEK
 * nobody can use.
 */
public final class KekIssuer {
  /** Bytes of a key-encryption key (AES-256). */
  public static final int KEK_LENGTH = 32;

  private final Hsm hsm;

  public KekIssuer(Hsm hsm) {
    this.hsm = hsm;
  }

  /**
   * A fresh KEK for version {@code version} of {@code keyName} in {@code zone}, wrapped and bound
   * to that version.
   *
   * @throws HsmException the HSM's failure, or {@code KEK_CHECK_FAILED} if its wrapping does not
   *     unwrap to the key it was given
   */
  public WrappedKeyMaterial newWrappedKek(String zone, String keyName, int version)
      throws HsmException {
    try (SecretKeyBytes kek = SecretKeyBytes.takeOwnership(hsm.randomBytes(KEK_LENGTH))) {
      WrappedKeyMaterial material =
          KekChecks.bind(WrappedKeyRecords.toRecord(hsm.wrap(zone, kek)), kek, keyName, version);
      KekChecks.requireUnwrapsToBoundKey(hsm, material, zone, keyName, version);
      return material;
    }
  }
}
