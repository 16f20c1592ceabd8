package io.keyrotor.client.envelope;

import io.keyrotor.crypto.AesGcm;
import io.keyrotor.crypto.AuthenticationFailedException;
import io.keyrotor.crypto.SecretBytes;
import java.util.Arrays;

/**
 * The one-shot envelope, format byte {@code 0x01} (docs/envelope-format.md):
 *
 * <pre>
 * offset   size  field
 * 0        1     format = 0x01
 * 1        2     L = length of the wrapped data key, big-endian, 1..65535
 * 3        L     wrapped data key (the server's ciphertext of the DEK, opaque here)
 * 3+L      12    nonce (random)
 * 15+L     n     AES-256-GCM ciphertext of the n plaintext bytes
 * 15+L+n   16    GCM tag
 * </pre>
 *
 * <p>Associated data: the header (bytes {@code [0, 15+L)}) followed by the canonical encoding of
 * the encryption context. The cryptography is {@link AesGcm}.
 */
final class BlobFormat {

  static final byte FORMAT = 0x01;
  static final int MAX_WRAPPED_BYTES = 0xFFFF;

  /** The parsed header of a blob. */
  static final class Header {
    final byte[] wrapped;
    final byte[] nonce;
    final int length;

    Header(byte[] wrapped, byte[] nonce, int length) {
      this.wrapped = wrapped;
      this.nonce = nonce;
      this.length = length;
    }
  }

  private BlobFormat() {}

  /** The blob for {@code plaintext} under {@code key}. */
  static byte[] seal(
      SecretBytes key, byte[] wrapped, byte[] nonce, byte[] contextEncoding, byte[] plaintext) {
    checkWrapped(wrapped);
    if (nonce.length != AesGcm.NONCE_BYTES) {
      throw new IllegalArgumentException("nonce must be 12 bytes");
    }
    int headerLength = 3 + wrapped.length + AesGcm.NONCE_BYTES;
    long total = (long) headerLength + plaintext.length + AesGcm.TAG_BYTES;
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "plaintext too large for a one-shot envelope; use encryptingStream");
    }
    byte[] blob = new byte[(int) total];
    blob[0] = FORMAT;
    blob[1] = (byte) (wrapped.length >>> 8);
    blob[2] = (byte) wrapped.length;
    System.arraycopy(wrapped, 0, blob, 3, wrapped.length);
    System.arraycopy(nonce, 0, blob, 3 + wrapped.length, AesGcm.NONCE_BYTES);
    byte[] header = Arrays.copyOf(blob, headerLength);
    AesGcm.seal(
        key, nonce, plaintext, 0, plaintext.length, blob, headerLength, header, contextEncoding);
    return blob;
  }

  /** Parses the header, checking lengths only (authentication comes with {@link #open}). */
  static Header parse(byte[] blob) {
    if (blob.length < 1) {
      throw new EnvelopeException(EnvelopeException.Reason.MALFORMED_ENVELOPE, "empty envelope");
    }
    if (blob[0] != FORMAT) {
      throw EnvelopeFormats.unsupported(blob[0]);
    }
    if (blob.length < 3) {
      throw new EnvelopeException(
          EnvelopeException.Reason.MALFORMED_ENVELOPE, "envelope ends inside its header");
    }
    int wrappedLength = ((blob[1] & 0xFF) << 8) | (blob[2] & 0xFF);
    if (wrappedLength == 0) {
      throw new EnvelopeException(
          EnvelopeException.Reason.MALFORMED_ENVELOPE, "envelope has an empty wrapped data key");
    }
    int headerLength = 3 + wrappedLength + AesGcm.NONCE_BYTES;
    if (blob.length < headerLength + AesGcm.TAG_BYTES) {
      throw new EnvelopeException(
          EnvelopeException.Reason.MALFORMED_ENVELOPE,
          "envelope of "
              + blob.length
              + " bytes is shorter than its header and tag ("
              + (headerLength + AesGcm.TAG_BYTES)
              + " bytes)");
    }
    byte[] wrapped = Arrays.copyOfRange(blob, 3, 3 + wrappedLength);
    byte[] nonce = Arrays.copyOfRange(blob, 3 + wrappedLength, headerLength);
    return new Header(wrapped, nonce, headerLength);
  }

  /** Authenticates and decrypts; plaintext is returned only if everything verified. */
  static byte[] open(SecretBytes key, byte[] blob, Header header, byte[] contextEncoding) {
    byte[] headerBytes = Arrays.copyOf(blob, header.length);
    try {
      return AesGcm.open(
          key,
          header.nonce,
          blob,
          header.length,
          blob.length - header.length,
          headerBytes,
          contextEncoding);
    } catch (AuthenticationFailedException e) {
      throw new EnvelopeException(
          EnvelopeException.Reason.AUTHENTICATION_FAILED,
          "envelope failed authentication: it was changed, or the encryption context differs"
              + " from the one it was sealed with");
    }
  }

  static void checkWrapped(byte[] wrapped) {
    if (wrapped.length == 0 || wrapped.length > MAX_WRAPPED_BYTES) {
      throw new EnvelopeException(
          EnvelopeException.Reason.INVALID_DATA_KEY,
          "wrapped data key of " + wrapped.length + " bytes (expected 1..65535)");
    }
  }
}
