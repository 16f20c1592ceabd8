package io.keyrotor.storage.apply.audit;

import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.storage.StateReader;
import java.util.Optional;

/** Looking up registered audit keys in the replicated node records. */
final class AuditKeys {
  /**
   * The DER prefix of an X.509 SubjectPublicKeyInfo of an uncompressed ECDSA P-256 point: the
   * algorithm (id-ecPublicKey, prime256v1) and the bit string header; 65 point bytes follow.
   */
  static final byte[] P256_SPKI_PREFIX = {
    0x30,
    0x59,
    0x30,
    0x13,
    0x06,
    0x07,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0xce,
    0x3d,
    0x02,
    0x01,
    0x06,
    0x08,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0xce,
    0x3d,
    0x03,
    0x01,
    0x07,
    0x03,
    0x42,
    0x00,
    0x04
  };

  /** Length of the whole SubjectPublicKeyInfo. */
  static final int P256_SPKI_LENGTH = P256_SPKI_PREFIX.length + 64;

  private AuditKeys() {}

  static Optional<NodeRecord> node(StateReader state, String id) {
    return state.nodes().stream().filter(n -> n.getId().equals(id)).findFirst();
  }

  static Optional<AuditKeyRegistration> key(StateReader state, String node, int version) {
    return node(state, node)
        .flatMap(
            n ->
                n.getAuditKeysList().stream()
                    .filter(k -> k.getKeyVersion() == version)
                    .findFirst());
  }

  /** Whether {@code spki} has the shape of an uncompressed P-256 SubjectPublicKeyInfo. */
  static boolean looksLikeP256(byte[] spki) {
    if (spki.length != P256_SPKI_LENGTH) {
      return false;
    }
    for (int i = 0; i < P256_SPKI_PREFIX.length; i++) {
      if (spki[i] != P256_SPKI_PREFIX[i]) {
        return false;
      }
    }
    return true;
  }
}
