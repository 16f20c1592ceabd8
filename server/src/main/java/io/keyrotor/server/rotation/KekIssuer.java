package io.keyrotor.server.rotation;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.hsm.WrappedKeyRecords;

/**
 * Issues new key-encryption keys: 32 random bytes from the HSM, wrapped by the HSM under the zone's
 * current master key. The plaintext exists only inside {@link #newWrappedKek} and is zeroed before
 * it returns; only the wrapped bytes enter the log.
 */
public final class KekIssuer {
  /** Bytes of a key-encryption key (AES-256). */
  public static final int KEK_LENGTH = 32;

  private final Hsm hsm;

  public KekIssuer(Hsm hsm) {
    this.hsm = hsm;
  }

  /** A fresh KEK for {@code zone}, wrapped. */
  public WrappedKeyMaterial newWrappedKek(String zone) throws HsmException {
    try (SecretKeyBytes kek = SecretKeyBytes.takeOwnership(hsm.randomBytes(KEK_LENGTH))) {
      return WrappedKeyRecords.toRecord(hsm.wrap(zone, kek));
    }
  }
}
