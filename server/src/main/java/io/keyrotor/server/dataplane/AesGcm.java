package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.util.Map;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-GCM with a 96-bit nonce and a 128-bit tag over the {@link CiphertextFormat} envelope, through
 * the JDK's provider (AES-NI and GHASH intrinsics on x86_64 and aarch64). One {@link Cipher} per
 * thread, initialised per message: no lock is shared between threads.
 *
 * <p>Decryption never releases plaintext before the tag has been verified (the JDK buffers a GCM
 * decryption until {@code doFinal}).
 */
public final class AesGcm {
  /** Tag length in bits. */
  private static final int TAG_BITS = CiphertextFormat.TAG_LENGTH * 8;

  private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(AesGcm::newCipher);

  private AesGcm() {}

  /**
   * Seals {@code plaintext} into a new envelope for ({@code keyName}, {@code keyVersion}) with the
   * given nonce and canonical context encoding.
   */
  public static byte[] seal(
      SecretKey key,
      String keyName,
      long keyVersion,
      byte[] nonce,
      byte[] context,
      byte[] plaintext,
      int offset,
      int length) {
    byte[] name = CiphertextFormat.keyNameBytes(keyName);
    byte[] out = new byte[CiphertextFormat.ciphertextLength(name.length, length)];
    int headerLength = CiphertextFormat.writeHeader(out, name, keyVersion, nonce);
    GCMParameterSpec spec =
        new GCMParameterSpec(TAG_BITS, out, headerLength - CiphertextFormat.NONCE_LENGTH, 12);
    Cipher cipher = CIPHER.get();
    try {
      try {
        cipher.init(Cipher.ENCRYPT_MODE, key, spec);
      } catch (InvalidAlgorithmParameterException reuse) {
        // The JDK refuses the same key and nonce twice in a row on one Cipher. Random nonces never
        // repeat in practice; fixed test vectors do. A fresh Cipher has no memory of the last one.
        cipher = newCipher();
        cipher.init(Cipher.ENCRYPT_MODE, key, spec);
      }
      cipher.updateAAD(out, 0, headerLength);
      cipher.updateAAD(context);
      int written = cipher.doFinal(plaintext, offset, length, out, headerLength);
      if (written != length + CiphertextFormat.TAG_LENGTH) {
        throw new IllegalStateException("AES-GCM wrote " + written + " bytes");
      }
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed: " + e.getClass().getName(), e);
    }
  }

  /**
   * Authenticates and decrypts a parsed envelope under {@code key} with the canonical context
   * encoding {@code context}. A wrong key, another context or any changed byte is {@link
   * ErrorReason#INVALID_CIPHERTEXT} (problem AUTHENTICATION_FAILED), and no plaintext is returned.
   */
  public static byte[] open(SecretKey key, CiphertextFormat.Parsed parsed, byte[] context)
      throws DataPlaneException {
    byte[] blob = parsed.blob();
    Cipher cipher = CIPHER.get();
    try {
      cipher.init(
          Cipher.DECRYPT_MODE,
          key,
          new GCMParameterSpec(
              TAG_BITS, blob, parsed.nonceOffset(), CiphertextFormat.NONCE_LENGTH));
      cipher.updateAAD(blob, 0, parsed.headerLength());
      cipher.updateAAD(context);
      byte[] plaintext = new byte[parsed.plaintextLength()];
      int written =
          cipher.doFinal(blob, parsed.headerLength(), parsed.sealedLength(), plaintext, 0);
      if (written != plaintext.length) {
        throw new IllegalStateException("AES-GCM wrote " + written + " bytes");
      }
      return plaintext;
    } catch (AEADBadTagException e) {
      throw new DataPlaneException(
          ErrorReason.INVALID_CIPHERTEXT,
          "the ciphertext failed authentication: it was altered, or the encryption context differs"
              + " from the one it was encrypted with",
          Map.of(
              "problem",
              "AUTHENTICATION_FAILED",
              "key",
              parsed.keyName(),
              "version",
              Long.toString(parsed.keyVersion())));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM decryption failed: " + e.getClass().getName(), e);
    }
  }

  private static Cipher newCipher() {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      // Fix the provider now, with a throwaway key: the JCE picks the provider on the first init,
      // and a key that fails there (destroyed under us) would leave the Cipher unusable.
      cipher.init(
          Cipher.ENCRYPT_MODE,
          new SecretKeySpec(new byte[16], "AES"),
          new GCMParameterSpec(TAG_BITS, new byte[CiphertextFormat.NONCE_LENGTH]));
      return cipher;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM has no AES/GCM/NoPadding", e);
    }
  }
}
