package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.crypto.EncryptionContext;
import io.keyrotor.crypto.InvalidEncryptionContextException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * keyrotor's ciphertext envelope, format version 1 (byte by byte in docs/ciphertext-format.md):
 *
 * <pre>
 * offset   size  field
 * 0        2     magic "KR" (0x4B 0x52)
 * 2        1     format version (0x01)
 * 3        2     key name length N, uint16 big-endian, 1..128
 * 5        N     key name, [A-Za-z0-9._-] (ASCII, so also its UTF-8)
 * 5+N      4     key version, uint32 big-endian, at least 1
 * 9+N      12    AES-GCM nonce
 * 21+N     L     AES-256-GCM ciphertext of the L plaintext bytes
 * 21+N+L   16    AES-GCM tag
 * </pre>
 *
 * The associated data is the header (bytes 0 to 21+N, nonce included) followed by the {@link
 * #encodeContext canonical encoding} of the encryption context, so a changed header, another
 * context, a truncated blob or a blob under another key fails authentication. This class parses and
 * lays out bytes only; {@link AesGcm} does the cryptography (through {@link
 * io.keyrotor.crypto.AesGcm}).
 */
public final class CiphertextFormat {
  /** The two magic bytes "KR". */
  public static final byte MAGIC_0 = 0x4B;

  public static final byte MAGIC_1 = 0x52;

  /** The only format version this server writes and reads. */
  public static final byte VERSION_1 = 0x01;

  /** Bytes of the AES-GCM nonce. */
  public static final int NONCE_LENGTH = 12;

  /** Bytes of the AES-GCM tag. */
  public static final int TAG_LENGTH = 16;

  /** The longest key name (the same limit as key names themselves). */
  public static final int MAX_KEY_NAME_LENGTH = 128;

  /** The largest key version the header can hold (uint32). */
  public static final long MAX_KEY_VERSION = 0xFFFF_FFFFL;

  /** The largest canonical context encoding accepted, in bytes. */
  public static final int MAX_CONTEXT_BYTES = EncryptionContext.MAX_ENCODED_BYTES;

  /** Header bytes besides the key name: magic, version, name length, key version, nonce. */
  static final int FIXED_HEADER_LENGTH = 2 + 1 + 2 + 4 + NONCE_LENGTH;

  private CiphertextFormat() {}

  /**
   * A parsed header: where the parts of {@code blob} are. The blob is not copied; nothing in it is
   * authenticated until {@link AesGcm#open} succeeds.
   *
   * @param blob the whole ciphertext
   * @param keyName the key the header names
   * @param keyVersion the key version the header names (at least 1)
   * @param headerLength bytes of the header (the associated data prefix), nonce included
   */
  // Carries bytes from a call to its answer; never compared, hashed or kept.
  @SuppressWarnings("ArrayRecordComponent")
  public record Parsed(byte[] blob, String keyName, long keyVersion, int headerLength) {
    /** Offset of the nonce in {@link #blob}. */
    public int nonceOffset() {
      return headerLength - NONCE_LENGTH;
    }

    /** Bytes of ciphertext plus tag. */
    public int sealedLength() {
      return blob.length - headerLength;
    }

    /** Bytes of the plaintext this ciphertext holds. */
    public int plaintextLength() {
      return blob.length - headerLength - TAG_LENGTH;
    }
  }

  /** Header bytes for a key name of {@code nameLength} bytes. */
  public static int headerLength(int nameLength) {
    return FIXED_HEADER_LENGTH + nameLength;
  }

  /** Total ciphertext bytes for a key name of {@code nameLength} and a plaintext of {@code n}. */
  public static int ciphertextLength(int nameLength, int n) {
    return headerLength(nameLength) + n + TAG_LENGTH;
  }

  /**
   * Writes the header (magic, version, name, key version, nonce) at the start of {@code out}, which
   * must be {@link #ciphertextLength} long. Returns the header length.
   */
  public static int writeHeader(byte[] out, byte[] keyName, long keyVersion, byte[] nonce) {
    if (keyName.length < 1 || keyName.length > MAX_KEY_NAME_LENGTH) {
      throw new IllegalArgumentException("key name must be 1 to 128 bytes");
    }
    if (keyVersion < 1 || keyVersion > MAX_KEY_VERSION) {
      throw new IllegalArgumentException("key versions are 1 to 2^32-1");
    }
    if (nonce.length != NONCE_LENGTH) {
      throw new IllegalArgumentException("the nonce must be 12 bytes");
    }
    int p = 0;
    out[p++] = MAGIC_0;
    out[p++] = MAGIC_1;
    out[p++] = VERSION_1;
    out[p++] = (byte) (keyName.length >>> 8);
    out[p++] = (byte) keyName.length;
    System.arraycopy(keyName, 0, out, p, keyName.length);
    p += keyName.length;
    out[p++] = (byte) (keyVersion >>> 24);
    out[p++] = (byte) (keyVersion >>> 16);
    out[p++] = (byte) (keyVersion >>> 8);
    out[p++] = (byte) keyVersion;
    System.arraycopy(nonce, 0, out, p, NONCE_LENGTH);
    return p + NONCE_LENGTH;
  }

  /**
   * Parses the header of {@code blob}. Structural problems (too short, wrong magic, unknown format
   * version, a bad name or version field) are {@link ErrorReason#INVALID_CIPHERTEXT}; nothing is
   * authenticated yet.
   */
  public static Parsed parse(byte[] blob) throws DataPlaneException {
    if (blob.length < 3) {
      throw invalid("it is " + blob.length + " bytes long, shorter than any keyrotor ciphertext");
    }
    if (blob[0] != MAGIC_0 || blob[1] != MAGIC_1) {
      throw invalid("it does not start with the keyrotor magic bytes \"KR\"");
    }
    if (blob[2] != VERSION_1) {
      throw invalid(
          "its format version is "
              + (blob[2] & 0xff)
              + "; this server reads format version "
              + VERSION_1,
          "UNKNOWN_FORMAT_VERSION");
    }
    if (blob.length < 5) {
      throw invalid("it is truncated inside the header");
    }
    int nameLength = ((blob[3] & 0xff) << 8) | (blob[4] & 0xff);
    if (nameLength < 1 || nameLength > MAX_KEY_NAME_LENGTH) {
      throw invalid("its key name length " + nameLength + " is outside 1 to 128");
    }
    int headerLength = headerLength(nameLength);
    if (blob.length < headerLength + TAG_LENGTH) {
      throw invalid("it is truncated (" + blob.length + " bytes)");
    }
    for (int i = 5; i < 5 + nameLength; i++) {
      if (!isKeyNameByte(blob[i], i == 5)) {
        throw invalid("its key name is not a valid keyrotor key name");
      }
    }
    String keyName = new String(blob, 5, nameLength, StandardCharsets.US_ASCII);
    int v = 5 + nameLength;
    long keyVersion =
        ((long) (blob[v] & 0xff) << 24)
            | ((blob[v + 1] & 0xff) << 16)
            | ((blob[v + 2] & 0xff) << 8)
            | (blob[v + 3] & 0xff);
    if (keyVersion < 1) {
      throw invalid("its key version is 0 (versions count from 1)");
    }
    return new Parsed(blob, keyName, keyVersion, headerLength);
  }

  /**
   * The canonical encoding of an encryption context, by {@link EncryptionContext} (its rules and
   * layout are defined once, in docs/ciphertext-format.md): a uint32 count, then the pairs in
   * ascending unsigned byte order of the UTF-8 keys, each key and value prefixed by its uint32
   * length; the empty context is four zero bytes. A context with an empty key, a string that is not
   * valid Unicode, or an encoding over {@link #MAX_CONTEXT_BYTES} is {@link
   * ErrorReason#INVALID_CONTEXT}.
   */
  public static byte[] encodeContext(Map<String, String> context) throws DataPlaneException {
    try {
      return EncryptionContext.of(context).encoding();
    } catch (InvalidEncryptionContextException e) {
      throw new DataPlaneException(ErrorReason.INVALID_CONTEXT, e.getMessage());
    }
  }

  /** The key name's bytes, checked against keyrotor's naming rules. */
  static byte[] keyNameBytes(String keyName) {
    byte[] bytes = keyName.getBytes(StandardCharsets.US_ASCII);
    if (bytes.length < 1 || bytes.length > MAX_KEY_NAME_LENGTH) {
      throw new IllegalArgumentException("key name must be 1 to 128 characters");
    }
    for (int i = 0; i < bytes.length; i++) {
      if (!isKeyNameByte(bytes[i], i == 0) || keyName.charAt(i) > 0x7f) {
        throw new IllegalArgumentException("not a keyrotor key name");
      }
    }
    return bytes;
  }

  private static boolean isKeyNameByte(byte b, boolean first) {
    boolean alphanumeric =
        (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
    return alphanumeric || (!first && (b == '.' || b == '_' || b == '-'));
  }

  private static DataPlaneException invalid(String why) {
    return invalid(why, "MALFORMED");
  }

  private static DataPlaneException invalid(String why, String problem) {
    return new DataPlaneException(
        ErrorReason.INVALID_CIPHERTEXT,
        "the ciphertext is not a valid keyrotor ciphertext: " + why,
        Map.of("problem", problem));
  }
}
