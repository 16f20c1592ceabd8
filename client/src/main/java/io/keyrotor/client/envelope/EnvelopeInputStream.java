package io.keyrotor.client.envelope;

import io.keyrotor.crypto.AesGcm;
import io.keyrotor.crypto.AuthenticationFailedException;
import io.keyrotor.crypto.SecretBytes;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * Decrypts an envelope read from the underlying stream. A streaming envelope (format {@code 0x02})
 * is read one segment at a time, and a segment's plaintext is released only after that segment
 * authenticated; a one-shot envelope (format {@code 0x01}) is read and verified whole before its
 * first byte is returned.
 *
 * <p><b>What a reader may trust.</b> Every byte returned belongs to the authentic envelope, in
 * order. That the envelope is <i>complete</i> is known only when {@code read} returns -1: a stream
 * cut short, or with a segment dropped, reordered, changed or swapped in from another stream,
 * throws an {@link EnvelopeStreamException} at the first bad segment instead of ending. Act on the
 * plaintext (or rename the output file into place) only after reading to the end.
 *
 * <p>After a failure every call throws the same error again. Close it to zero the segment key and
 * buffers; it closes the underlying stream. Not thread-safe.
 */
public final class EnvelopeInputStream extends InputStream {

  private final InputStream in;
  private final StreamFormat.Header header;
  private final byte[] contextEncoding;
  private final String keyName;
  private final int keyVersion;
  private SecretBytes segmentKey;
  private byte[] sealed;
  private byte[] plaintext;
  private int position;
  private int limit;
  private long segmentIndex;
  private int lookahead = -1;
  private boolean finished;
  private boolean closed;
  private EnvelopeStreamException failure;

  /**
   * A segmented envelope whose header was read; takes ownership of {@code segmentKey} (closed at
   * the end, on failure and on close).
   */
  EnvelopeInputStream(
      InputStream in,
      StreamFormat.Header header,
      SecretBytes segmentKey,
      byte[] contextEncoding,
      String keyName,
      int keyVersion) {
    this.in = Objects.requireNonNull(in, "in");
    this.header = header;
    this.segmentKey = segmentKey;
    this.contextEncoding = contextEncoding.clone();
    this.keyName = keyName;
    this.keyVersion = keyVersion;
    this.sealed = new byte[header.segmentSize + AesGcm.TAG_BYTES];
    this.plaintext = new byte[0];
  }

  /** A one-shot envelope already verified and decrypted whole. */
  EnvelopeInputStream(InputStream in, byte[] plaintext, String keyName, int keyVersion) {
    this.in = Objects.requireNonNull(in, "in");
    this.header = null;
    this.contextEncoding = new byte[0];
    this.keyName = keyName;
    this.keyVersion = keyVersion;
    this.plaintext = plaintext;
    this.limit = plaintext.length;
    this.finished = true;
  }

  /** The key whose version wrapped the data key, as the server reported it. */
  public String keyName() {
    return keyName;
  }

  /** The key version that wrapped the data key, as the server reported it. */
  public int keyVersion() {
    return keyVersion;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n == -1 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, buffer.length);
    if (failure != null) {
      throw new EnvelopeStreamException((EnvelopeException) failure.getCause());
    }
    if (closed) {
      throw new IOException("envelope stream is closed");
    }
    if (length == 0) {
      return 0;
    }
    while (position == limit) {
      if (finished) {
        zeroKeys();
        return -1;
      }
      readSegment();
    }
    int n = Math.min(length, limit - position);
    System.arraycopy(plaintext, position, buffer, offset, n);
    position += n;
    return n;
  }

  @Override
  public int available() throws IOException {
    return failure != null || closed ? 0 : limit - position;
  }

  /** Zeroes the key and buffers and closes the underlying stream. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    zeroKeys();
    StreamFormat.zero(plaintext);
    StreamFormat.zero(sealed);
    in.close();
  }

  private void zeroKeys() {
    if (segmentKey != null) {
      segmentKey.close();
      segmentKey = null;
    }
  }

  /** Reads, authenticates and decrypts the next segment into the plaintext buffer. */
  private void readSegment() throws IOException {
    int capacity = sealed.length;
    int n = 0;
    if (lookahead >= 0) {
      sealed[n++] = (byte) lookahead;
      lookahead = -1;
    }
    n += in.readNBytes(sealed, n, capacity - n);
    boolean last;
    if (n < capacity) {
      last = true;
    } else {
      int next = in.read();
      last = next == -1;
      lookahead = next;
    }
    if (n == 0) {
      throw fail(
          EnvelopeException.Reason.TRUNCATED,
          "stream ends after its header, before its first segment");
    }
    byte[] nonce = StreamFormat.segmentNonce(header.noncePrefix, segmentIndex, last);
    byte[] opened;
    try {
      opened = AesGcm.open(segmentKey, nonce, sealed, 0, n, header.bytes, contextEncoding);
    } catch (AuthenticationFailedException e) {
      if (last && n == capacity && sealsAsNonFinal(n)) {
        throw fail(
            EnvelopeException.Reason.TRUNCATED,
            "stream ends after segment "
                + segmentIndex
                + ", which is not its last: the envelope was cut short");
      }
      throw fail(
          EnvelopeException.Reason.AUTHENTICATION_FAILED,
          "segment "
              + segmentIndex
              + " failed authentication: the envelope was changed, cut, reordered, or the"
              + " encryption context differs from the one it was sealed with");
    }
    StreamFormat.zero(plaintext);
    plaintext = opened;
    position = 0;
    limit = opened.length;
    segmentIndex++;
    if (last) {
      finished = true;
    } else if (segmentIndex >= StreamFormat.MAX_SEGMENTS) {
      throw fail(EnvelopeException.Reason.STREAM_TOO_LONG, "stream has more than 2^32 segments");
    }
  }

  /** Whether a full segment that arrived last verifies as a non-final one (a cut stream). */
  private boolean sealsAsNonFinal(int n) {
    byte[] nonce = StreamFormat.segmentNonce(header.noncePrefix, segmentIndex, false);
    try {
      StreamFormat.zero(
          AesGcm.open(segmentKey, nonce, sealed, 0, n, header.bytes, contextEncoding));
      return true;
    } catch (AuthenticationFailedException e) {
      return false;
    }
  }

  private EnvelopeStreamException fail(EnvelopeException.Reason reason, String message) {
    failure = new EnvelopeStreamException(new EnvelopeException(reason, message));
    zeroKeys();
    StreamFormat.zero(plaintext);
    position = 0;
    limit = 0;
    return failure;
  }
}
