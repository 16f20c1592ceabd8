package io.keyrotor.client.envelope;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-GCM with a 96-bit nonce and a 128-bit tag through the JDK's provider (AES-NI and CLMUL
 * intrinsics), and a key object whose bytes can be zeroed.
 */
final class Gcm {

  static final int NONCE_BYTES = 12;
  static final int TAG_BYTES = 16;
  private static final int TAG_BITS = TAG_BYTES * 8;

  private Gcm() {}

  /**
   * Encrypts {@code plaintext[offset, offset+length)} and writes ciphertext and tag into {@code
   * out} at {@code outOffset}; returns the number of bytes written ({@code length + 16}).
   */
  static int seal(
      byte[] key,
      byte[] nonce,
      byte[][] associatedData,
      byte[] plaintext,
      int offset,
      int length,
      byte[] out,
      int outOffset) {
    TransientAesKey secret = new TransientAesKey(key);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, secret, new GCMParameterSpec(TAG_BITS, nonce));
      for (byte[] part : associatedData) {
        cipher.updateAAD(part);
      }
      return cipher.doFinal(plaintext, offset, length, out, outOffset);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed in the JDK provider", e);
    } finally {
      secret.destroy();
    }
  }

  /**
   * Decrypts and verifies {@code ciphertext[offset, offset+length)} (ciphertext then tag); returns
   * the plaintext, or throws {@link AEADBadTagException} without releasing any of it.
   */
  static byte[] open(
      byte[] key, byte[] nonce, byte[][] associatedData, byte[] ciphertext, int offset, int length)
      throws AEADBadTagException {
    if (length < TAG_BYTES) {
      throw new AEADBadTagException("shorter than a tag");
    }
    TransientAesKey secret = new TransientAesKey(key);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, secret, new GCMParameterSpec(TAG_BITS, nonce));
      for (byte[] part : associatedData) {
        cipher.updateAAD(part);
      }
      return cipher.doFinal(ciphertext, offset, length);
    } catch (AEADBadTagException e) {
      throw e;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM decryption failed in the JDK provider", e);
    } finally {
      secret.destroy();
    }
  }

  /**
   * An AES key handed to the JDK provider. Unlike {@code SecretKeySpec} its copy of the bytes can
   * be zeroed ({@link #destroy()}); the provider's own expanded key schedule lives inside the
   * {@code Cipher} and becomes garbage with it.
   */
  private static final class TransientAesKey implements SecretKey {
    private static final long serialVersionUID = 1L;
    private final byte[] bytes;
    private boolean destroyed;

    TransientAesKey(byte[] key) {
      this.bytes = key.clone();
    }

    @Override
    public String getAlgorithm() {
      return "AES";
    }

    @Override
    public String getFormat() {
      return "RAW";
    }

    @Override
    public byte[] getEncoded() {
      return bytes.clone();
    }

    @Override
    public void destroy() {
      Arrays.fill(bytes, (byte) 0);
      destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
      return destroyed;
    }
  }
}
