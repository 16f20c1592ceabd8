package io.keyrotor.hsm.software;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The three wrapping mechanisms with the JDK's own providers, byte-compatible with the PKCS#11
 * mechanisms of the same names (RFC 5649, RFC 3394, and nonce || ciphertext || tag for AES-GCM with
 * the ZMK label as associated data).
 */
final class JceWrapping {
  private static final int GCM_NONCE_BYTES = ZoneMasterKeys.GCM_NONCE_BYTES;
  private static final int GCM_TAG_BITS = ZoneMasterKeys.GCM_TAG_BITS;

  private JceWrapping() {}

  static byte[] wrap(
      WrapMechanism mechanism,
      SecretKey zoneMasterKey,
      ZoneMasterKeyId id,
      byte[] key,
      SecureRandom random)
      throws HsmException {
    ZoneMasterKeys.requireWrappableLength(mechanism, key.length);
    try {
      return switch (mechanism) {
        case AES_KEY_WRAP_PAD ->
            crypt("AES/KWP/NoPadding", Cipher.ENCRYPT_MODE, zoneMasterKey, key);
        case AES_KEY_WRAP -> crypt("AES/KW/NoPadding", Cipher.ENCRYPT_MODE, zoneMasterKey, key);
        case AES_GCM -> {
          byte[] nonce = new byte[GCM_NONCE_BYTES];
          random.nextBytes(nonce);
          Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
          gcm.init(Cipher.ENCRYPT_MODE, zoneMasterKey, new GCMParameterSpec(GCM_TAG_BITS, nonce));
          gcm.updateAAD(ZoneMasterKeys.gcmAssociatedData(id.zone(), id.version()));
          byte[] sealed = gcm.doFinal(key);
          byte[] out = new byte[nonce.length + sealed.length];
          System.arraycopy(nonce, 0, out, 0, nonce.length);
          System.arraycopy(sealed, 0, out, nonce.length, sealed.length);
          yield out;
        }
        default ->
            throw new HsmException(Reason.UNSUPPORTED_MECHANISM, "unknown mechanism " + mechanism);
      };
    } catch (GeneralSecurityException e) {
      // No key bytes in the message: the JDK's messages name algorithms and lengths only.
      throw new HsmException(
          Reason.HSM_UNAVAILABLE, "the JDK could not wrap with " + mechanism + ": " + e, e);
    }
  }

  /** Unwraps; every integrity or format failure is {@code UNWRAP_FAILED}. */
  static byte[] unwrap(
      WrapMechanism mechanism, SecretKey zoneMasterKey, ZoneMasterKeyId id, byte[] wrapped)
      throws HsmException {
    if (mechanism != WrapMechanism.AES_GCM && (wrapped.length < 16 || wrapped.length % 8 != 0)) {
      // RFC 3394/5649 output is at least two 8-byte blocks; the JDK 17 ciphers crash on less.
      throw unwrapFailed(id, mechanism);
    }
    try {
      return switch (mechanism) {
        case AES_KEY_WRAP_PAD ->
            crypt("AES/KWP/NoPadding", Cipher.DECRYPT_MODE, zoneMasterKey, wrapped);
        case AES_KEY_WRAP -> crypt("AES/KW/NoPadding", Cipher.DECRYPT_MODE, zoneMasterKey, wrapped);
        case AES_GCM -> {
          if (wrapped.length < GCM_NONCE_BYTES + GCM_TAG_BITS / 8 + 1) {
            throw unwrapFailed(id, mechanism);
          }
          Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
          gcm.init(
              Cipher.DECRYPT_MODE,
              zoneMasterKey,
              new GCMParameterSpec(GCM_TAG_BITS, wrapped, 0, GCM_NONCE_BYTES));
          gcm.updateAAD(ZoneMasterKeys.gcmAssociatedData(id.zone(), id.version()));
          yield gcm.doFinal(wrapped, GCM_NONCE_BYTES, wrapped.length - GCM_NONCE_BYTES);
        }
        default ->
            throw new HsmException(Reason.UNSUPPORTED_MECHANISM, "unknown mechanism " + mechanism);
      };
    } catch (GeneralSecurityException | RuntimeException e) {
      // Malformed input must never escape as anything but UNWRAP_FAILED.
      throw unwrapFailed(id, mechanism);
    }
  }

  /** AES-ECB of a zero block, first 3 bytes in hex. */
  static String checkValue(SecretKey zoneMasterKey) throws HsmException {
    try {
      byte[] block = crypt("AES/ECB/NoPadding", Cipher.ENCRYPT_MODE, zoneMasterKey, new byte[16]);
      String value = ZoneMasterKeys.formatCheckValue(block);
      Arrays.fill(block, (byte) 0);
      return value;
    } catch (GeneralSecurityException e) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, "the JDK could not compute a check value", e);
    }
  }

  private static byte[] crypt(String transformation, int mode, SecretKey key, byte[] input)
      throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance(transformation);
    cipher.init(mode, key);
    return cipher.doFinal(input);
  }

  private static HsmException unwrapFailed(ZoneMasterKeyId id, WrapMechanism mechanism) {
    return new HsmException(
        Reason.UNWRAP_FAILED,
        "wrapped key failed its integrity check under zone master key "
            + id
            + " with "
            + mechanism
            + " (tampered, truncated, or wrapped under another zone or version)");
  }
}
