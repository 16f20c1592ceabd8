package io.keyrotor.crypto;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;

/**
 * The message an audit checkpoint signs, and checking its signature, shared by the node that signs
 * and every verifier (the SDK's offline verifier, the CLI): {@code "keyrotor-audit-checkpoint-v1"
 * || 0x00 || log index (8 bytes, big-endian) || head (32 bytes) || signer length (2 bytes) ||
 * signer (UTF-8) || key version (4 bytes)}. Signatures are ECDSA P-256 over SHA-256 in IEEE P1363
 * form (r || s).
 */
public final class AuditCheckpointSignatures {
  private static final byte[] DOMAIN =
      "keyrotor-audit-checkpoint-v1".getBytes(StandardCharsets.US_ASCII);

  /** The JDK name of the signature algorithm. */
  public static final String ALGORITHM = "SHA256withECDSAinP1363Format";

  private AuditCheckpointSignatures() {}

  /** The signed message of a checkpoint of {@code head} at {@code logIndex}. */
  public static byte[] message(long logIndex, byte[] head, String signerNode, int keyVersion) {
    if (head.length != 32) {
      throw new IllegalArgumentException("a head is 32 bytes, not " + head.length);
    }
    byte[] signer = signerNode.getBytes(StandardCharsets.UTF_8);
    if (signer.length > 0xFFFF) {
      throw new IllegalArgumentException("a signer node id is at most 65535 bytes");
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(DOMAIN.length + 47 + signer.length);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write(DOMAIN);
      out.writeByte(0);
      out.writeLong(logIndex);
      out.write(head);
      out.writeShort(signer.length);
      out.write(signer);
      out.writeInt(keyVersion);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The public key of an X.509 SubjectPublicKeyInfo (DER) of an EC key. */
  public static PublicKey publicKey(byte[] subjectPublicKeyInfo) throws GeneralSecurityException {
    return KeyFactory.getInstance("EC")
        .generatePublic(new X509EncodedKeySpec(subjectPublicKeyInfo));
  }

  /** Whether {@code signature} over {@code message} verifies under {@code key}; never throws. */
  public static boolean verify(PublicKey key, byte[] message, byte[] signature) {
    try {
      Signature verifier = Signature.getInstance(ALGORITHM);
      verifier.initVerify(key);
      verifier.update(message);
      return verifier.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }
}
