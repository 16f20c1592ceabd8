package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.crypto.AuthenticationFailedException;
import io.keyrotor.crypto.SecretBytes;
import java.util.Arrays;
import java.util.Map;
import javax.crypto.SecretKey;

/**
 * AES-256-GCM over the {@link CiphertextFormat} envelope: this class lays the envelope out around
 * {@link io.keyrotor.crypto.AesGcm}, which does the cryptography (a 96-bit nonce, a 128-bit tag,
 * one JDK {@code Cipher} per thread and no lock shared between threads). The associated data is the
 * header, nonce included, followed by the canonical encoding of the encryption context.
 *
 * <p>Decryption never releases plaintext before the tag has been verified; a tag that does not
 * verify is {@link ErrorReason#INVALID_CIPHERTEXT} with problem {@code AUTHENTICATION_FAILED}. A
 * {@link Kek} destroyed under a call fails it with {@link IllegalStateException}.
 */
public final class AesGcm {

  private AesGcm() {}

  /**
   * Seals {@code plaintext[offset, offset + length)} into a new envelope for ({@code keyName},
   * {@code keyVersion}) with the given nonce and canonical context encoding.
   */
  static byte[] seal(
      Kek key,
      String keyName,
      long keyVersion,
      byte[] nonce,
      byte[] context,
      byte[] plaintext,
      int offset,
      int length) {
    return seal(key.secretBytes(), keyName, keyVersion, nonce, context, plaintext, offset, length);
  }

  /**
   * {@link #seal(Kek, String, long, byte[], byte[], byte[], int, int)} under a key given as a JCE
   * key (tests and benchmarks, which seal under known keys).
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
    try (SecretBytes bytes = SecretBytes.takeOwnership(key.getEncoded())) {
      return seal(bytes, keyName, keyVersion, nonce, context, plaintext, offset, length);
    }
  }

  private static byte[] seal(
      SecretBytes key,
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
    io.keyrotor.crypto.AesGcm.seal(
        key,
        nonce,
        plaintext,
        offset,
        length,
        out,
        headerLength,
        Arrays.copyOf(out, headerLength),
        context);
    return out;
  }

  /**
   * Authenticates and decrypts a parsed envelope under {@code key} with the canonical context
   * encoding {@code context}. A wrong key, another context or any changed byte is {@link
   * ErrorReason#INVALID_CIPHERTEXT} (problem AUTHENTICATION_FAILED), and no plaintext is returned.
   */
  static byte[] open(Kek key, CiphertextFormat.Parsed parsed, byte[] context)
      throws DataPlaneException {
    return open(key.secretBytes(), parsed, context);
  }

  /** {@link #open(Kek, CiphertextFormat.Parsed, byte[])} under a key given as a JCE key. */
  public static byte[] open(SecretKey key, CiphertextFormat.Parsed parsed, byte[] context)
      throws DataPlaneException {
    try (SecretBytes bytes = SecretBytes.takeOwnership(key.getEncoded())) {
      return open(bytes, parsed, context);
    }
  }

  private static byte[] open(SecretBytes key, CiphertextFormat.Parsed parsed, byte[] context)
      throws DataPlaneException {
    byte[] blob = parsed.blob();
    try {
      return io.keyrotor.crypto.AesGcm.open(
          key,
          Arrays.copyOfRange(blob, parsed.nonceOffset(), parsed.headerLength()),
          blob,
          parsed.headerLength(),
          parsed.sealedLength(),
          Arrays.copyOf(blob, parsed.headerLength()),
          context);
    } catch (AuthenticationFailedException e) {
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
    }
  }
}
