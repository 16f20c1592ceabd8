package io.keyrotor.client.envelope;

import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.crypto.AesGcm;
import io.keyrotor.crypto.EncryptionContext;
import io.keyrotor.crypto.SecretBytes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Objects;

/**
 * Envelope encryption on top of keyrotor data keys: the server generates and unwraps a 256-bit data
 * key (DEK) under a named key, and the data itself is encrypted here with AES-256-GCM, so payloads
 * of any size never travel to the server.
 *
 * <p>{@link #encrypt} returns one self-contained envelope: a versioned header carrying the wrapped
 * DEK and the nonce, then the ciphertext and tag; the header and the encryption context are
 * authenticated as associated data. {@link #decrypt} asks the server to unwrap the DEK (under the
 * same context; the server refuses another one) and decrypts locally. The streaming variants
 * process large payloads in segments of 64 KiB. docs/envelope-format.md describes both formats byte
 * by byte.
 *
 * <p>Security properties: confidentiality and integrity of the payload under a DEK that only the
 * key's holders can unwrap; the context is bound twice (to the wrapped DEK by the server, to the
 * payload here). A changed, truncated, reordered or re-contexted envelope never returns plaintext
 * from {@link #decrypt}, and {@link EnvelopeInputStream} stops at the first bad segment. DEK bytes
 * are zeroed after use; copies inside protobuf messages, gRPC buffers and the JDK's AES key
 * schedule are out of reach and become garbage.
 *
 * <p>Errors: server failures (unknown key, disabled version, wrong context for the wrapped DEK,
 * cluster unreachable) are {@link io.keyrotor.client.KeyrotorException}s; bad envelopes are {@link
 * EnvelopeException}s ({@link EnvelopeStreamException}s from streams); a context that breaks the
 * rules of {@link EncryptionContext} (an empty key, a string that is not valid Unicode, more than 8
 * KiB encoded: contexts the server refuses too) is an {@link
 * io.keyrotor.crypto.InvalidEncryptionContextException}, an {@link IllegalArgumentException},
 * thrown before the server is asked.
 *
 * <p>Thread-safe; it does not own the client or the caches (close those yourself).
 */
public final class EnvelopeCipher {

  private final DataKeySource dataKeys;
  private final DataKeyCache dataKeyCache;
  private final DecryptionKeyCache decryptionKeyCache;
  private final int segmentSize;
  private final SecureRandom random;

  private EnvelopeCipher(Builder builder) {
    this.dataKeys = builder.dataKeys;
    this.dataKeyCache = builder.dataKeyCache;
    this.decryptionKeyCache = builder.decryptionKeyCache;
    this.segmentSize = builder.segmentSize;
    this.random = builder.random;
  }

  /** A builder over a client; caches are off unless set. */
  public static Builder builder(KeyrotorClient client) {
    return new Builder(new ClientDataKeySource(client));
  }

  /** A builder over any data key source (tests). */
  static Builder builder(DataKeySource dataKeys) {
    return new Builder(dataKeys);
  }

  /**
   * Encrypts {@code plaintext} under a data key of {@code keyName} bound to {@code context}: a new
   * one from GenerateDataKey, or one from the data-key cache if one is set and has room.
   *
   * @return the envelope (format {@code 0x01}): 31 bytes plus the wrapped data key longer than the
   *     plaintext
   */
  public byte[] encrypt(String keyName, byte[] plaintext, Map<String, String> context) {
    Objects.requireNonNull(keyName, "keyName");
    Objects.requireNonNull(plaintext, "plaintext");
    byte[] contextEncoding = EncryptionContext.of(context).encoding();
    DataKey dataKey =
        dataKeyCache == null
            ? null
            : dataKeyCache.leaseOrNull(keyName, contextEncoding, plaintext.length);
    boolean generated = dataKey == null;
    if (generated) {
      dataKey = dataKeys.generate(keyName, context);
    }
    try {
      byte[] nonce = AesGcm.randomNonce(random);
      byte[] envelope =
          BlobFormat.seal(dataKey.key(), dataKey.wrapped(), nonce, contextEncoding, plaintext);
      if (generated && dataKeyCache != null) {
        dataKeyCache.offer(keyName, contextEncoding, dataKey.copy(), plaintext.length);
      }
      return envelope;
    } finally {
      dataKey.destroy();
    }
  }

  /**
   * Decrypts an envelope of either format ({@code 0x01} from {@link #encrypt}, {@code 0x02} from
   * {@link #encryptingStream}) sealed with the same {@code context}.
   *
   * @throws EnvelopeException if the envelope is malformed, of an unknown format, or fails
   *     authentication; no plaintext is returned then
   * @throws io.keyrotor.client.KeyrotorException if the server does not unwrap the data key
   */
  public byte[] decrypt(byte[] envelope, Map<String, String> context) {
    Objects.requireNonNull(envelope, "envelope");
    byte[] contextEncoding = EncryptionContext.of(context).encoding();
    if (envelope.length > 0 && envelope[0] == StreamFormat.FORMAT) {
      try (EnvelopeInputStream in = decryptingStream(new ByteArrayInputStream(envelope), context)) {
        return in.readAllBytes();
      } catch (EnvelopeStreamException e) {
        throw (EnvelopeException) e.getCause();
      } catch (IOException e) {
        throw new UncheckedIOException(e); // not reached: memory does not fail to read
      }
    }
    BlobFormat.Header header = BlobFormat.parse(envelope);
    DataKey dataKey = unwrap(header.wrapped, context, contextEncoding);
    try {
      return BlobFormat.open(dataKey.key(), envelope, header, contextEncoding);
    } finally {
      dataKey.destroy();
    }
  }

  /**
   * A stream that encrypts what is written to it into a streaming envelope (format {@code 0x02}) on
   * {@code ciphertext}. Asks for a new data key now (streams never use the data-key cache) and
   * writes the header; {@link EnvelopeOutputStream#close()} writes the final segment and closes
   * {@code ciphertext}.
   */
  public EnvelopeOutputStream encryptingStream(
      OutputStream ciphertext, String keyName, Map<String, String> context) throws IOException {
    Objects.requireNonNull(ciphertext, "ciphertext");
    Objects.requireNonNull(keyName, "keyName");
    byte[] contextEncoding = EncryptionContext.of(context).encoding();
    DataKey dataKey = dataKeys.generate(keyName, context);
    byte[] salt = new byte[StreamFormat.SALT_BYTES];
    byte[] noncePrefix = new byte[StreamFormat.NONCE_PREFIX_BYTES];
    random.nextBytes(salt);
    random.nextBytes(noncePrefix);
    return new EnvelopeOutputStream(
        ciphertext, dataKey, contextEncoding, segmentSize, salt, noncePrefix);
  }

  /**
   * A stream of the plaintext of the envelope read from {@code envelope} (either format). Reads the
   * header and has the server unwrap the data key now; a streaming envelope is then decrypted
   * segment by segment as it is read (see {@link EnvelopeInputStream} for what a reader may trust
   * before the end), a one-shot envelope is read and verified whole first.
   *
   * @throws EnvelopeStreamException if the header is malformed or of an unknown format
   * @throws io.keyrotor.client.KeyrotorException if the server does not unwrap the data key
   */
  public EnvelopeInputStream decryptingStream(InputStream envelope, Map<String, String> context)
      throws IOException {
    Objects.requireNonNull(envelope, "envelope");
    byte[] contextEncoding = EncryptionContext.of(context).encoding();
    try {
      int format = envelope.read();
      if (format == -1) {
        throw new EnvelopeException(EnvelopeException.Reason.MALFORMED_ENVELOPE, "empty envelope");
      }
      if (format == StreamFormat.FORMAT) {
        StreamFormat.Header header = StreamFormat.readHeaderAfterFormat(envelope);
        DataKey dataKey = unwrap(header.wrapped, context, contextEncoding);
        SecretBytes segmentKey;
        try {
          segmentKey = StreamFormat.segmentKey(dataKey.key(), header.salt);
        } finally {
          dataKey.destroy();
        }
        return new EnvelopeInputStream(
            envelope, header, segmentKey, contextEncoding, dataKey.keyName(), dataKey.keyVersion());
      }
      if (format == BlobFormat.FORMAT) {
        byte[] rest = envelope.readAllBytes();
        byte[] blob = new byte[rest.length + 1];
        blob[0] = BlobFormat.FORMAT;
        System.arraycopy(rest, 0, blob, 1, rest.length);
        BlobFormat.Header header = BlobFormat.parse(blob);
        DataKey dataKey = unwrap(header.wrapped, context, contextEncoding);
        try {
          byte[] plaintext = BlobFormat.open(dataKey.key(), blob, header, contextEncoding);
          return new EnvelopeInputStream(
              envelope, plaintext, dataKey.keyName(), dataKey.keyVersion());
        } finally {
          dataKey.destroy();
        }
      }
      throw EnvelopeFormats.unsupported((byte) format);
    } catch (EnvelopeException e) {
      throw new EnvelopeStreamException(e);
    }
  }

  /** The data key inside {@code wrapped}, from the decryption cache or the server. */
  private DataKey unwrap(byte[] wrapped, Map<String, String> context, byte[] contextEncoding) {
    if (decryptionKeyCache != null) {
      DataKey cached = decryptionKeyCache.leaseOrNull(wrapped, contextEncoding);
      if (cached != null) {
        return cached;
      }
    }
    DataKey dataKey = dataKeys.unwrap(wrapped, context);
    if (decryptionKeyCache != null) {
      decryptionKeyCache.offer(contextEncoding, dataKey.copy());
    }
    return dataKey;
  }

  /** Configures an {@link EnvelopeCipher}. */
  public static final class Builder {
    private final DataKeySource dataKeys;
    private DataKeyCache dataKeyCache;
    private DecryptionKeyCache decryptionKeyCache;
    private int segmentSize = StreamFormat.DEFAULT_SEGMENT_BYTES;
    private SecureRandom random = new SecureRandom();

    private Builder(DataKeySource dataKeys) {
      this.dataKeys = Objects.requireNonNull(dataKeys, "dataKeys");
    }

    /** Reuse data keys for one-shot envelopes within these limits (default: no cache). */
    public Builder dataKeyCache(DataKeyCache cache) {
      this.dataKeyCache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /** Remember unwrapped data keys for decryption (default: no cache). */
    public Builder decryptionKeyCache(DecryptionKeyCache cache) {
      this.decryptionKeyCache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /**
     * Plaintext bytes per segment of streaming envelopes written from now on, 64..16 MiB (default
     * 64 KiB). Readers take the size from each envelope's header.
     */
    public Builder segmentSize(int bytes) {
      StreamFormat.checkSegmentSize(bytes);
      this.segmentSize = bytes;
      return this;
    }

    /** The source of nonces and salts (default: a new {@link SecureRandom}). */
    public Builder random(SecureRandom random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /** Builds the cipher. */
    public EnvelopeCipher build() {
      return new EnvelopeCipher(this);
    }
  }
}
