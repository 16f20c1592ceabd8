package io.keyrotor.client.envelope;

import javax.crypto.AEADBadTagException;

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
 * the encryption context.
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
      byte[] key, byte[] wrapped, byte[] nonce, byte[] contextEncoding, byte[] plaintext) {
    checkWrapped(wrapped);
    if (nonce.length != Gcm.NONCE_BYTES) {
      throw new IllegalArgumentException("nonce must be 12 bytes");
    }
    int headerLength = 3 + wrapped.length + Gcm.NONCE_BYTES;
    long total = (long) headerLength + plaintext.length + Gcm.TAG_BYTES;
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "plaintext too large for a one-shot envelope; use encryptingStream");
    }
    byte[] blob = new byte[(int) total];
    blob[0] = FORMAT;
    blob[1] = (byte) (wrapped.length >>> 8);
    blob[2] = (byte) wrapped.length;
    System.arraycopy(wrapped, 0, blob, 3, wrapped.length);
    System.arraycopy(nonce, 0, blob, 3 + wrapped.length, Gcm.NONCE_BYTES);
    byte[] header = java.util.Arrays.copyOf(blob, headerLength);
    Gcm.seal(
        key,
        nonce,
        new byte[][] {header, contextEncoding},
        plaintext,
        0,
        plaintext.length,
        blob,
        headerLength);
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
    int headerLength = 3 + wrappedLength + Gcm.NONCE_BYTES;
    if (blob.length < headerLength + Gcm.TAG_BYTES) {
      throw new EnvelopeException(
          EnvelopeException.Reason.MALFORMED_ENVELOPE,
          "envelope of "
              + blob.length
              + " bytes is shorter than its header and tag ("
              + (headerLength + Gcm.TAG_BYTES)
              + " bytes)");
    }
    byte[] wrapped = java.util.Arrays.copyOfRange(blob, 3, 3 + wrappedLength);
    byte[] nonce = java.util.Arrays.copyOfRange(blob, 3 + wrappedLength, headerLength);
    return new Header(wrapped, nonce, headerLength);
  }

  /** Authenticates and decrypts; plaintext is returned only if everything verified. */
  static byte[] open(byte[] key, byte[] blob, Header header, byte[] contextEncoding) {
    byte[] headerBytes = java.util.Arrays.copyOf(blob, header.length);
    try {
      return Gcm.open(
          key,
          header.nonce,
          new byte[][] {headerBytes, contextEncoding},
          blob,
          header.length,
          blob.length - header.length);
    } catch (AEADBadTagException e) {
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
