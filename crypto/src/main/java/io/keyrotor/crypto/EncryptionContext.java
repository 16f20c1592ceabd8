package io.keyrotor.crypto;

import io.keyrotor.crypto.InvalidEncryptionContextException.Rule;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An encryption context (a map of strings that a caller binds to a ciphertext and must give again
 * to decrypt it) and its canonical byte encoding, authenticated as associated data by the server's
 * ciphertext format (docs/ciphertext-format.md, which defines it) and by the SDK's envelopes
 * (docs/envelope-format.md).
 *
 * <p>The encoding:
 *
 * <pre>
 * u32 count of pairs
 * then, for each pair, in ascending order of the key's UTF-8 bytes compared as unsigned bytes:
 *   u32 byte length of the key,   the key's UTF-8 bytes
 *   u32 byte length of the value, the value's UTF-8 bytes
 * </pre>
 *
 * (big-endian, no terminators; the empty context is {@code 00 00 00 00}). Unsigned byte order is
 * code point order, not the UTF-16 order of {@link String#compareTo}.
 *
 * <p>The rules, the same for the server and the SDK; a context that breaks one is refused with
 * {@link InvalidEncryptionContextException} naming the {@link Rule}:
 *
 * <ul>
 *   <li>keys are not empty (values may be);
 *   <li>keys and values are valid Unicode: no unpaired surrogates (which UTF-8 cannot encode, and
 *       which a lenient encoder would replace, giving two contexts one encoding);
 *   <li>the encoding is at most {@link #MAX_ENCODED_BYTES} bytes, count and lengths included;
 *   <li>no nulls.
 * </ul>
 *
 * <p>Security guarantee: two contexts have the same encoding if and only if they are equal as maps
 * (the lengths make the encoding unambiguous, the order makes it independent of the map's iteration
 * order, and refusing invalid Unicode keeps it injective), so a ciphertext bound to one context
 * never authenticates under another.
 *
 * <p>Immutable and thread-safe. Equal when the encodings are equal. {@link #toString()} shows the
 * keys only, never the values.
 */
public final class EncryptionContext {
  /** The largest canonical encoding accepted, in bytes (the whole encoding, count included). */
  public static final int MAX_ENCODED_BYTES = 8 * 1024;

  private static final String[] NONE = new String[0];

  /** The context with no pairs; it encodes as four zero bytes. */
  public static final EncryptionContext EMPTY = new EncryptionContext(NONE, NONE, new byte[4]);

  /** Keys in canonical order, and their values at the same positions. */
  private final String[] keys;

  private final String[] values;
  private final byte[] encoding;

  private EncryptionContext(String[] keys, String[] values, byte[] encoding) {
    this.keys = keys;
    this.values = values;
    this.encoding = encoding;
  }

  /**
   * The context holding the pairs of {@code context}, checked against the rules and encoded.
   *
   * @throws InvalidEncryptionContextException if it breaks a rule
   * @throws NullPointerException if {@code context} is null
   */
  public static EncryptionContext of(Map<String, String> context) {
    Objects.requireNonNull(context, "context");
    if (context.isEmpty()) {
      return EMPTY;
    }
    int n = context.size();
    String[] keyStrings = new String[n];
    String[] valueStrings = new String[n];
    byte[][] keyBytes = new byte[n][];
    byte[][] valueBytes = new byte[n][];
    long total = 4;
    int i = 0;
    for (Map.Entry<String, String> pair : context.entrySet()) {
      String key = pair.getKey();
      String value = pair.getValue();
      if (key == null || value == null) {
        throw new InvalidEncryptionContextException(
            Rule.NO_NULLS, "encryption context keys and values must not be null");
      }
      if (key.isEmpty()) {
        throw new InvalidEncryptionContextException(
            Rule.KEYS_NOT_EMPTY, "encryption context keys must not be empty");
      }
      keyStrings[i] = key;
      valueStrings[i] = value;
      keyBytes[i] = utf8(key);
      valueBytes[i] = utf8(value);
      total += 8L + keyBytes[i].length + valueBytes[i].length;
      if (total > MAX_ENCODED_BYTES) {
        throw new InvalidEncryptionContextException(
            Rule.AT_MOST_MAX_ENCODED_BYTES,
            "the encryption context encodes to more than " + MAX_ENCODED_BYTES + " bytes");
      }
      i++;
    }
    Integer[] order = new Integer[n];
    for (int j = 0; j < n; j++) {
      order[j] = j;
    }
    Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(keyBytes[a], keyBytes[b]));
    String[] keys = new String[n];
    String[] values = new String[n];
    byte[] out = new byte[(int) total];
    int p = putU32(out, 0, n);
    for (int j = 0; j < n; j++) {
      int from = order[j];
      keys[j] = keyStrings[from];
      values[j] = valueStrings[from];
      p = putBytes(out, p, keyBytes[from]);
      p = putBytes(out, p, valueBytes[from]);
    }
    return new EncryptionContext(keys, values, out);
  }

  /** The canonical encoding (a copy). */
  public byte[] encoding() {
    return encoding.clone();
  }

  /**
   * The length of the canonical encoding in bytes: at least 4, at most {@link #MAX_ENCODED_BYTES}.
   */
  public int encodedLength() {
    return encoding.length;
  }

  /** The number of pairs. */
  public int size() {
    return keys.length;
  }

  public boolean isEmpty() {
    return keys.length == 0;
  }

  /** The pairs, unmodifiable, in canonical order (ascending unsigned UTF-8 bytes of the keys). */
  public Map<String, String> toMap() {
    Map<String, String> pairs = new LinkedHashMap<>();
    for (int i = 0; i < keys.length; i++) {
      pairs.put(keys[i], values[i]);
    }
    return Collections.unmodifiableMap(pairs);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof EncryptionContext that && Arrays.equals(encoding, that.encoding);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encoding);
  }

  /** The keys in canonical order; values are left out. */
  @Override
  public String toString() {
    return "EncryptionContext" + Arrays.toString(keys);
  }

  /**
   * UTF-8 of {@code text}, refusing unpaired surrogates (which {@link String#getBytes} replaces).
   */
  private static byte[] utf8(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++; // a valid pair
      } else if (Character.isSurrogate(c)) {
        throw new InvalidEncryptionContextException(
            Rule.VALID_UNICODE,
            "the encryption context holds a string that is not valid Unicode (an unpaired"
                + " surrogate)");
      }
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static int putBytes(byte[] out, int p, byte[] bytes) {
    p = putU32(out, p, bytes.length);
    System.arraycopy(bytes, 0, out, p, bytes.length);
    return p + bytes.length;
  }

  private static int putU32(byte[] out, int p, int value) {
    out[p] = (byte) (value >>> 24);
    out[p + 1] = (byte) (value >>> 16);
    out[p + 2] = (byte) (value >>> 8);
    out[p + 3] = (byte) value;
    return p + 4;
  }
}
