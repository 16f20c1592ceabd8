package io.keyrotor.client.envelope;

import io.keyrotor.crypto.AesGcm;
import io.keyrotor.crypto.SecretBytes;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * Encrypts what is written to it into a streaming envelope (format {@code 0x02}) on the underlying
 * stream: the header at once, then one sealed segment each time a segment's worth of plaintext is
 * buffered and more follows, and the final segment on {@link #close()}. <b>Close it</b>: without
 * the final segment the envelope does not decrypt (it reads as truncated).
 *
 * <p>The data key is zeroed as soon as the per-stream segment key is derived from it; the segment
 * key and the plaintext buffer are zeroed on close. Not thread-safe.
 */
public final class EnvelopeOutputStream extends OutputStream {

  private final OutputStream out;
  private final StreamFormat.Header header;
  private final byte[] contextEncoding;
  private final String keyName;
  private final int keyVersion;
  private final SecretBytes segmentKey;
  private final byte[] plaintext;
  private final byte[] sealed;
  private int buffered;
  private long segmentIndex;
  private boolean closed;
  private IOException failure;

  /** Takes ownership of {@code dataKey} (destroyed here) and writes the header. */
  EnvelopeOutputStream(
      OutputStream out,
      DataKey dataKey,
      byte[] contextEncoding,
      int segmentSize,
      byte[] salt,
      byte[] noncePrefix)
      throws IOException {
    this.out = Objects.requireNonNull(out, "out");
    try {
      this.header = new StreamFormat.Header(segmentSize, dataKey.wrapped(), salt, noncePrefix);
      this.segmentKey = StreamFormat.segmentKey(dataKey.key(), salt);
      this.keyName = dataKey.keyName();
      this.keyVersion = dataKey.keyVersion();
    } finally {
      dataKey.destroy();
    }
    this.contextEncoding = contextEncoding.clone();
    this.plaintext = new byte[segmentSize];
    this.sealed = new byte[segmentSize + AesGcm.TAG_BYTES];
    try {
      out.write(header.bytes);
    } catch (IOException e) {
      segmentKey.close();
      throw e;
    }
  }

  /** The key whose data key encrypts this stream. */
  public String keyName() {
    return keyName;
  }

  /** The key version that wrapped the data key, as the server reported it. */
  public int keyVersion() {
    return keyVersion;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] bytes, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    ensureUsable();
    while (length > 0) {
      if (buffered == plaintext.length) {
        emit(false); // more data follows, so this full segment is not the last
      }
      int n = Math.min(length, plaintext.length - buffered);
      System.arraycopy(bytes, offset, plaintext, buffered, n);
      buffered += n;
      offset += n;
      length -= n;
    }
  }

  /**
   * Flushes the underlying stream. Buffered plaintext (less than one segment) stays buffered: a
   * segment is sealed only when it is full or the stream is closed.
   */
  @Override
  public void flush() throws IOException {
    ensureUsable();
    out.flush();
  }

  /** Seals the final segment, zeroes the key and buffers, and closes the underlying stream. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (failure == null) {
        emit(true);
        out.flush();
      }
    } finally {
      segmentKey.close();
      StreamFormat.zero(plaintext);
      StreamFormat.zero(sealed);
      out.close();
    }
  }

  private void ensureUsable() throws IOException {
    if (failure != null) {
      throw failure;
    }
    if (closed) {
      throw new IOException("envelope stream is closed");
    }
  }

  private void emit(boolean last) throws IOException {
    if (segmentIndex >= StreamFormat.MAX_SEGMENTS
        || (!last && segmentIndex + 1 >= StreamFormat.MAX_SEGMENTS)) {
      failure =
          new EnvelopeStreamException(
              new EnvelopeException(
                  EnvelopeException.Reason.STREAM_TOO_LONG,
                  "stream would exceed 2^32 segments; use a larger segment size"));
      throw failure;
    }
    byte[] nonce = StreamFormat.segmentNonce(header.noncePrefix, segmentIndex, last);
    int n =
        AesGcm.seal(
            segmentKey, nonce, plaintext, 0, buffered, sealed, 0, header.bytes, contextEncoding);
    try {
      out.write(sealed, 0, n);
    } catch (IOException e) {
      failure = e;
      throw e;
    }
    segmentIndex++;
    buffered = 0;
  }
}
