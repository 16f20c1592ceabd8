package io.keyrotor.crypto;

import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag, through the JDK's provider
 * (AES-NI and carry-less multiply intrinsics on x86_64 and aarch64): the one implementation behind
 * the server's ciphertext format and the SDK's envelopes.
 *
 * <p>Security guarantees:
 *
 * <ul>
 *   <li><b>Confidentiality and integrity</b> of the plaintext, and integrity of the associated
 *       data, under a 128-, 192- or 256-bit key (keyrotor's formats use 256), as long as a nonce is
 *       never used twice with one key. {@link #randomNonce} draws 96 random bits: with random
 *       nonces, seal at most 2^32 messages per key (SP 800-38D, section 8.3). Callers that derive
 *       nonces (a segment counter) make them unique themselves.
 *   <li><b>No unauthenticated plaintext.</b> {@link #open} returns plaintext only after the tag
 *       verified; otherwise it throws {@link AuthenticationFailedException}, which says nothing
 *       about why, and whatever the provider wrote is zeroed.
 *   <li><b>Key bytes stay inside {@link SecretBytes}.</b> The JDK receives one copy per call
 *       (through {@link SecretBytes#revealCopy()}); a key that was closed is refused with {@link
 *       IllegalStateException}, also when the close races the call, and never used half-zeroed.
 * </ul>
 *
 * <p>Associated data is given in parts, authenticated as their concatenation in order (the formats
 * authenticate a header followed by the canonical encoding of an encryption context).
 *
 * <p>Thread-safe, and no lock is shared between threads: each thread reuses one {@link Cipher},
 * initialised per message. A thread's {@code Cipher} keeps the key schedule (and, for the JDK's
 * nonce-reuse check, a copy) of the last key it encrypted under, until its next use; that is beyond
 * what this class can zero.
 */
public final class AesGcm {
  /** Bytes of a nonce (96 bits). */
  public static final int NONCE_BYTES = 12;

  /** Bytes of an authentication tag (128 bits). */
  public static final int TAG_BYTES = 16;

  private static final int TAG_BITS = TAG_BYTES * 8;

  private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(AesGcm::newCipher);

  private AesGcm() {}

  /** A new nonce of 96 bits from {@code random}. */
  public static byte[] randomNonce(SecureRandom random) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    return nonce;
  }

  /**
   * Encrypts {@code plaintext[offset, offset + length)} and writes the ciphertext followed by the
   * tag into {@code out} at {@code outOffset}.
   *
   * @param key an AES key of 16, 24 or 32 bytes
   * @param nonce 12 bytes, never used before with this key
   * @param associatedData authenticated, not encrypted, in this order
   * @return the number of bytes written: {@code length + TAG_BYTES}
   * @throws IllegalArgumentException if the key or nonce has the wrong length
   * @throws IllegalStateException if the key was closed, or the JDK has no AES-GCM
   */
  public static int seal(
      SecretBytes key,
      byte[] nonce,
      byte[] plaintext,
      int offset,
      int length,
      byte[] out,
      int outOffset,
      byte[]... associatedData) {
    checkKeyAndNonce(key, nonce);
    Objects.checkFromIndexSize(offset, length, plaintext.length);
    Objects.checkFromIndexSize(outOffset, length + TAG_BYTES, out.length);
    SecretKey view = new RevealingKeyView(key);
    GCMParameterSpec spec = new GCMParameterSpec(TAG_BITS, nonce);
    Cipher cipher = CIPHER.get();
    try {
      try {
        cipher.init(Cipher.ENCRYPT_MODE, view, spec);
      } catch (InvalidAlgorithmParameterException sameKeyAndNonceAsLastTime) {
        // The JDK refuses the same key and nonce twice in a row on one Cipher. Random nonces never
        // repeat in practice; fixed test vectors do. A fresh Cipher has no memory of the last one.
        cipher = newCipher();
        cipher.init(Cipher.ENCRYPT_MODE, view, spec);
      }
      for (byte[] part : associatedData) {
        cipher.updateAAD(part);
      }
      int written = cipher.doFinal(plaintext, offset, length, out, outOffset);
      if (written != length + TAG_BYTES) {
        throw new IllegalStateException("AES-GCM wrote " + written + " bytes");
      }
      return written;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "AES-GCM encryption failed in the JDK provider: " + e.getClass().getName(), e);
    } catch (RuntimeException e) {
      CIPHER.remove(); // a failure inside init (a key closed under us) may leave it half set up
      throw e;
    }
  }

  /**
   * Authenticates and decrypts {@code sealed[offset, offset + length)}, a ciphertext followed by
   * its tag, and returns the plaintext ({@code length - TAG_BYTES} bytes).
   *
   * @param key the AES key it was sealed under
   * @param nonce the 12-byte nonce it was sealed with
   * @param associatedData the associated data it was sealed with, in the same parts order
   * @throws AuthenticationFailedException if the tag does not verify (another key, nonce or
   *     associated data, or any changed, missing or added byte), including a message shorter than a
   *     tag; no plaintext is released
   * @throws IllegalArgumentException if the key or nonce has the wrong length
   * @throws IllegalStateException if the key was closed, or the JDK has no AES-GCM
   */
  public static byte[] open(
      SecretBytes key,
      byte[] nonce,
      byte[] sealed,
      int offset,
      int length,
      byte[]... associatedData)
      throws AuthenticationFailedException {
    checkKeyAndNonce(key, nonce);
    Objects.checkFromIndexSize(offset, length, sealed.length);
    if (length < TAG_BYTES) {
      throw new AuthenticationFailedException();
    }
    Cipher cipher = CIPHER.get();
    byte[] plaintext = new byte[length - TAG_BYTES];
    try {
      cipher.init(
          Cipher.DECRYPT_MODE, new RevealingKeyView(key), new GCMParameterSpec(TAG_BITS, nonce));
      for (byte[] part : associatedData) {
        cipher.updateAAD(part);
      }
      int written = cipher.doFinal(sealed, offset, length, plaintext, 0);
      if (written != plaintext.length) {
        throw new IllegalStateException("AES-GCM wrote " + written + " bytes");
      }
      return plaintext;
    } catch (AEADBadTagException e) {
      Arrays.fill(plaintext, (byte) 0);
      throw new AuthenticationFailedException();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "AES-GCM decryption failed in the JDK provider: " + e.getClass().getName(), e);
    } catch (RuntimeException e) {
      Arrays.fill(plaintext, (byte) 0);
      CIPHER.remove();
      throw e;
    }
  }

  private static void checkKeyAndNonce(SecretBytes key, byte[] nonce) {
    int keyLength = key.length();
    if (keyLength != 16 && keyLength != 24 && keyLength != 32) {
      throw new IllegalArgumentException(
          "an AES key is 16, 24 or 32 bytes, not " + keyLength + " bytes");
    }
    if (nonce.length != NONCE_BYTES) {
      throw new IllegalArgumentException(
          "an AES-GCM nonce is " + NONCE_BYTES + " bytes here, not " + nonce.length + " bytes");
    }
  }

  private static Cipher newCipher() {
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      // Fix the provider now, with a throwaway key: the JCE picks the provider on the first init,
      // and a key that fails there (closed under us) would leave the Cipher without one.
      cipher.init(
          Cipher.ENCRYPT_MODE,
          new SecretKeySpec(new byte[16], "AES"),
          new GCMParameterSpec(TAG_BITS, new byte[NONCE_BYTES]));
      return cipher;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM has no AES/GCM/NoPadding", e);
    }
  }

  /**
   * The JCE's view of a {@link SecretBytes}: each {@link #getEncoded()} is a fresh {@link
   * SecretBytes#revealCopy()} that the provider owns. Lives for one {@code Cipher.init}; no {@code
   * toString} content, not serializable.
   */
  private static final class RevealingKeyView implements SecretKey {
    private static final long serialVersionUID = 1L;
    private final transient SecretBytes key;

    RevealingKeyView(SecretBytes key) {
      this.key = key;
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
      return key.revealCopy();
    }

    private void writeObject(ObjectOutputStream out) throws NotSerializableException {
      throw new NotSerializableException("keys are never serialized");
    }
  }
}
