package io.keyrotor.hsm;

import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Optional;

/**
 * What both HSMs share about audit signing keys: ECDSA P-256 key pairs, versioned per node, whose
 * private half stays in the HSM. Public keys cross the interface as X.509 SubjectPublicKeyInfo
 * (DER); signatures are SHA256withECDSA in IEEE P1363 form (r || s, 64 bytes), the form a PKCS#11
 * {@code CKM_ECDSA} returns, so verifiers use {@code SHA256withECDSAinP1363Format}.
 */
public final class AuditSigningKeys {
  /** Token object label prefix: {@code keyrotor-audit/<version>}. */
  public static final String LABEL_PREFIX = "keyrotor-audit/";

  /** The DER encoding of the prime256v1 curve OID, the EC parameters of a P-256 key. */
  private static final byte[] P256_PARAMETERS = {
    0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07
  };

  /** The SubjectPublicKeyInfo prefix of an uncompressed P-256 point (65 point bytes follow). */
  private static final byte[] P256_SPKI_PREFIX = {
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
    0x00
  };

  /** Signature length: r and s of 32 bytes each. */
  public static final int SIGNATURE_BYTES = 64;

  /** The largest message the HSMs sign (checkpoint messages are under 400 bytes). */
  public static final int MAX_MESSAGE_BYTES = 4096;

  private AuditSigningKeys() {}

  /** The EC parameters of a P-256 key: the DER encoding of the prime256v1 OID (a copy). */
  public static byte[] p256Parameters() {
    return P256_PARAMETERS.clone();
  }

  /** The label of audit key {@code version}. */
  public static String label(int version) {
    return LABEL_PREFIX + version;
  }

  /** The version a label names, if it is an audit key label. */
  public static Optional<Integer> parseLabel(String label) {
    if (label == null || !label.startsWith(LABEL_PREFIX)) {
      return Optional.empty();
    }
    try {
      int version = Integer.parseInt(label.substring(LABEL_PREFIX.length()));
      return version >= 1 ? Optional.of(version) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * The SubjectPublicKeyInfo of a P-256 point: {@code point} is the uncompressed point (65 bytes,
   * 0x04 first), bare or in the DER OCTET STRING that PKCS#11's {@code CKA_EC_POINT} holds.
   */
  public static byte[] subjectPublicKeyInfo(byte[] point) throws HsmException {
    byte[] bare = point;
    if (point.length == 67 && point[0] == 0x04 && point[1] == 0x41) {
      bare = Arrays.copyOfRange(point, 2, 67);
    }
    if (bare.length != 65 || bare[0] != 0x04) {
      throw new HsmException(
          HsmException.Reason.UNSUPPORTED_MECHANISM,
          "the audit key's public point is not an uncompressed P-256 point");
    }
    byte[] spki = Arrays.copyOf(P256_SPKI_PREFIX, P256_SPKI_PREFIX.length + 65);
    System.arraycopy(bare, 0, spki, P256_SPKI_PREFIX.length, 65);
    return spki;
  }

  /** The JDK public key of a SubjectPublicKeyInfo (to check a signature in tests and verifiers). */
  public static PublicKey publicKey(byte[] subjectPublicKeyInfo) throws HsmException {
    try {
      return KeyFactory.getInstance("EC")
          .generatePublic(new X509EncodedKeySpec(subjectPublicKeyInfo));
    } catch (NoSuchAlgorithmException | InvalidKeySpecException e) {
      throw new HsmException(
          HsmException.Reason.INVALID_REQUEST, "not an EC SubjectPublicKeyInfo", e);
    }
  }

  /** SHA-256 of {@code message}: what {@code CKM_ECDSA} signs. */
  public static byte[] sha256(byte[] message) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(message);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** Refuses a message that is empty or larger than {@link #MAX_MESSAGE_BYTES}. */
  public static void requireSignable(byte[] message) throws HsmException {
    if (message.length == 0 || message.length > MAX_MESSAGE_BYTES) {
      throw new HsmException(
          HsmException.Reason.INVALID_REQUEST,
          "an audit signature covers 1 to " + MAX_MESSAGE_BYTES + " bytes");
    }
  }

  /** The message of a version that is not held. */
  public static HsmException notHeld(String where, int version) {
    return new HsmException(
        HsmException.Reason.INVALID_REQUEST,
        where + " holds no audit key version " + version + " (" + label(version) + ")");
  }
}
