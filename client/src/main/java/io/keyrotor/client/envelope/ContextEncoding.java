package io.keyrotor.client.envelope;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The canonical byte encoding of an encryption context, authenticated as part of an envelope's
 * associated data (docs/envelope-format.md, "Context encoding").
 *
 * <p>{@code u32 count}, then for each pair in ascending unsigned-byte order of the key's UTF-8
 * encoding: {@code u32 key length, key UTF-8, u32 value length, value UTF-8} (big-endian lengths).
 * Two maps encode equally if and only if they are equal: strings that are not valid Unicode
 * (unpaired surrogates) are refused rather than replaced, so no two contexts share an encoding.
 */
final class ContextEncoding {

  private ContextEncoding() {}

  /**
   * Encodes a context.
   *
   * @throws IllegalArgumentException if a key or value is null or not valid Unicode
   */
  static byte[] encode(Map<String, String> context) {
    Objects.requireNonNull(context, "context");
    List<byte[][]> pairs = new ArrayList<>(context.size());
    for (Map.Entry<String, String> entry : context.entrySet()) {
      if (entry.getKey() == null || entry.getValue() == null) {
        throw new IllegalArgumentException("encryption context keys and values must not be null");
      }
      pairs.add(new byte[][] {utf8(entry.getKey(), "key"), utf8(entry.getValue(), "value")});
    }
    pairs.sort((a, b) -> Arrays.compareUnsigned(a[0], b[0]));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeU32(out, pairs.size());
    for (byte[][] pair : pairs) {
      writeU32(out, pair[0].length);
      out.writeBytes(pair[0]);
      writeU32(out, pair[1].length);
      out.writeBytes(pair[1]);
    }
    return out.toByteArray();
  }

  private static byte[] utf8(String text, String what) {
    CharsetEncoder encoder =
        StandardCharsets.UTF_8
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      ByteBuffer encoded = encoder.encode(CharBuffer.wrap(text));
      byte[] bytes = new byte[encoded.remaining()];
      encoded.get(bytes);
      return bytes;
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(
          "encryption context " + what + " is not valid Unicode (unpaired surrogate)", e);
    }
  }

  private static void writeU32(ByteArrayOutputStream out, int value) {
    out.write(value >>> 24);
    out.write(value >>> 16);
    out.write(value >>> 8);
    out.write(value);
  }
}
