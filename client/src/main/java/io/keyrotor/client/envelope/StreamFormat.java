package io.keyrotor.client.envelope;

import io.keyrotor.crypto.AesGcm;
import io.keyrotor.crypto.SecretBytes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The streaming envelope, format byte {@code 0x02} (docs/envelope-format.md), a segmented AEAD in
 * the manner of the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár) that Tink's streaming
 * AEAD also follows:
 *
 * <pre>
 * offset   size  field
 * 0        1     format = 0x02
 * 1        4     S = plaintext bytes per segment, big-endian, 64..16777216
 * 5        2     L = length of the wrapped data key, big-endian, 1..65535
 * 7        L     wrapped data key
 * 7+L      32    salt (random per stream)
 * 39+L     7     nonce prefix (random per stream)
 * 46+L           segments: AES-256-GCM(segment key, nonce_i, header || context, p_i) = c_i || tag_i
 * </pre>
 *
 * <p>The segment key is HKDF-SHA256(DEK, salt, "keyrotor envelope stream v1"), so every stream has
 * its own key even when data keys are reused. Segment {@code i} (from 0) uses the nonce {@code
 * prefix || u32 i || last}, where {@code last} is 1 for the final segment and 0 otherwise; every
 * segment but the last holds exactly {@code S} plaintext bytes, the last 0..S. Dropping, reordering
 * or swapping segments changes a nonce; cutting the stream at a segment boundary leaves a final
 * segment sealed with {@code last = 0}; changing the header or context changes the associated data:
 * each fails authentication. The cryptography is {@link AesGcm} and {@link Hkdf}.
 */
final class StreamFormat {

  static final byte FORMAT = 0x02;
  static final int SALT_BYTES = 32;
  static final int NONCE_PREFIX_BYTES = 7;
  static final int MIN_SEGMENT_BYTES = 64;
  static final int MAX_SEGMENT_BYTES = 1 << 24;
  static final int DEFAULT_SEGMENT_BYTES = 64 * 1024;
  static final long MAX_SEGMENTS = 1L << 32;
  static final byte[] KEY_INFO = "keyrotor envelope stream v1".getBytes(StandardCharsets.US_ASCII);

  /** A parsed or freshly made stream header. */
  static final class Header {
    final int segmentSize;
    final byte[] wrapped;
    final byte[] salt;
    final byte[] noncePrefix;

    /** The header as it appears on the wire: the first part of every segment's associated data. */
    final byte[] bytes;

    Header(int segmentSize, byte[] wrapped, byte[] salt, byte[] noncePrefix) {
      checkSegmentSize(segmentSize);
      BlobFormat.checkWrapped(wrapped);
      if (salt.length != SALT_BYTES || noncePrefix.length != NONCE_PREFIX_BYTES) {
        throw new IllegalArgumentException("salt must be 32 bytes and nonce prefix 7 bytes");
      }
      this.segmentSize = segmentSize;
      this.wrapped = wrapped.clone();
      this.salt = salt.clone();
      this.noncePrefix = noncePrefix.clone();
      byte[] out = new byte[7 + wrapped.length + SALT_BYTES + NONCE_PREFIX_BYTES];
      out[0] = FORMAT;
      writeU32(out, 1, segmentSize);
      out[5] = (byte) (wrapped.length >>> 8);
      out[6] = (byte) wrapped.length;
      System.arraycopy(wrapped, 0, out, 7, wrapped.length);
      System.arraycopy(salt, 0, out, 7 + wrapped.length, SALT_BYTES);
      System.arraycopy(noncePrefix, 0, out, 7 + wrapped.length + SALT_BYTES, NONCE_PREFIX_BYTES);
      this.bytes = out;
    }
  }

  private StreamFormat() {}

  static void checkSegmentSize(int segmentSize) {
    if (segmentSize < MIN_SEGMENT_BYTES || segmentSize > MAX_SEGMENT_BYTES) {
      throw new IllegalArgumentException(
          "segment size must be " + MIN_SEGMENT_BYTES + ".." + MAX_SEGMENT_BYTES + " bytes");
    }
  }

  /**
   * Reads the rest of a stream header whose format byte (already read) was {@link #FORMAT}.
   *
   * @throws EnvelopeException if the header is cut short or out of range
   */
  static Header readHeaderAfterFormat(InputStream in) throws IOException {
    byte[] fixed = readExactly(in, 6);
    int segmentSize = readU32(fixed, 0);
    if (segmentSize < MIN_SEGMENT_BYTES || segmentSize > MAX_SEGMENT_BYTES) {
      throw new EnvelopeException(
          EnvelopeException.Reason.MALFORMED_ENVELOPE,
          "stream header declares a segment size of "
              + Integer.toUnsignedString(segmentSize)
              + " bytes (allowed: "
              + MIN_SEGMENT_BYTES
              + ".."
              + MAX_SEGMENT_BYTES
              + ")");
    }
    int wrappedLength = ((fixed[4] & 0xFF) << 8) | (fixed[5] & 0xFF);
    if (wrappedLength == 0) {
      throw new EnvelopeException(
          EnvelopeException.Reason.MALFORMED_ENVELOPE,
          "stream header has an empty wrapped data key");
    }
    byte[] wrapped = readExactly(in, wrappedLength);
    byte[] salt = readExactly(in, SALT_BYTES);
    byte[] prefix = readExactly(in, NONCE_PREFIX_BYTES);
    return new Header(segmentSize, wrapped, salt, prefix);
  }

  /** The per-stream segment key; the caller closes it. */
  static SecretBytes segmentKey(SecretBytes dataKey, byte[] salt) {
    byte[] inputKey = dataKey.revealCopy();
    try {
      return SecretBytes.takeOwnership(Hkdf.sha256(inputKey, salt, KEY_INFO, DataKey.KEY_BYTES));
    } finally {
      zero(inputKey);
    }
  }

  /** {@code prefix || u32 index || last}. */
  static byte[] segmentNonce(byte[] prefix, long index, boolean last) {
    byte[] nonce = new byte[AesGcm.NONCE_BYTES];
    System.arraycopy(prefix, 0, nonce, 0, NONCE_PREFIX_BYTES);
    writeU32(nonce, NONCE_PREFIX_BYTES, (int) index);
    nonce[11] = (byte) (last ? 1 : 0);
    return nonce;
  }

  private static byte[] readExactly(InputStream in, int length) throws IOException {
    byte[] out = in.readNBytes(length);
    if (out.length != length) {
      throw new EnvelopeException(
          EnvelopeException.Reason.TRUNCATED, "stream ends inside its header");
    }
    return out;
  }

  static void writeU32(byte[] out, int offset, int value) {
    out[offset] = (byte) (value >>> 24);
    out[offset + 1] = (byte) (value >>> 16);
    out[offset + 2] = (byte) (value >>> 8);
    out[offset + 3] = (byte) value;
  }

  private static int readU32(byte[] in, int offset) {
    return ((in[offset] & 0xFF) << 24)
        | ((in[offset + 1] & 0xFF) << 16)
        | ((in[offset + 2] & 0xFF) << 8)
        | (in[offset + 3] & 0xFF);
  }

  static void zero(byte[] bytes) {
    if (bytes != null) {
      Arrays.fill(bytes, (byte) 0);
    }
  }
}
