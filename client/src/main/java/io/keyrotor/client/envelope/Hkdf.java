package io.keyrotor.client.envelope;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HKDF with HMAC-SHA256 (RFC 5869), for the per-stream segment key. */
final class Hkdf {

  private static final int HASH_BYTES = 32;

  private Hkdf() {}

  /**
   * {@code HKDF-Expand(HKDF-Extract(salt, ikm), info, length)}; the intermediate pseudorandom key
   * is zeroed before returning.
   */
  static byte[] sha256(byte[] ikm, byte[] salt, byte[] info, int length) {
    if (length < 1 || length > 255 * HASH_BYTES) {
      throw new IllegalArgumentException("HKDF-SHA256 output length must be 1..8160 bytes");
    }
    byte[] prk = null;
    byte[] block = new byte[0];
    try {
      Mac extract = Mac.getInstance("HmacSHA256");
      // RFC 5869: an empty salt means HashLen zero bytes.
      extract.init(new SecretKeySpec(salt.length == 0 ? new byte[HASH_BYTES] : salt, "HmacSHA256"));
      prk = extract.doFinal(ikm);
      Mac expand = Mac.getInstance("HmacSHA256");
      expand.init(new SecretKeySpec(prk, "HmacSHA256"));
      byte[] out = new byte[length];
      int written = 0;
      for (int counter = 1; written < length; counter++) {
        expand.update(block);
        expand.update(info);
        expand.update((byte) counter);
        Arrays.fill(block, (byte) 0);
        block = expand.doFinal();
        int n = Math.min(block.length, length - written);
        System.arraycopy(block, 0, out, written, n);
        written += n;
      }
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from the JDK", e);
    } finally {
      if (prk != null) {
        Arrays.fill(prk, (byte) 0);
      }
      Arrays.fill(block, (byte) 0);
    }
  }
}
