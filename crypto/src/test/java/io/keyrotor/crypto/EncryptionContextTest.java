package io.keyrotor.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.crypto.InvalidEncryptionContextException.Rule;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The canonical encoding of an encryption context: known-answer vectors taken from the server's
 * ciphertext-format vectors (docs/ciphertext-format-reference.py) and the SDK's envelope vectors
 * (client/src/test/resources/envelope/generate_vectors.py), both computed by independent Python
 * implementations, and every rule's refusal.
 */
class EncryptionContextTest {
  private static final HexFormat HEX = HexFormat.of();

  private static Map<String, String> ordered(String... keysAndValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  static Stream<Arguments> vectors() {
    return Stream.of(
        Arguments.of("empty (both vector sets)", Map.of(), "00000000"),
        Arguments.of(
            "two pairs, sorted by key (worked example of both docs)",
            ordered("tenant", "acme", "purpose", "invoice"),
            "00000002"
                + "00000007707572706f7365"
                + "00000007696e766f696365"
                + "0000000674656e616e74"
                + "0000000461636d65"),
        Arguments.of(
            "an empty value (server vector \"empty plaintext\")",
            ordered("a", ""),
            "00000001" + "0000000161" + "00000000"),
        Arguments.of(
            "three pairs (server vector \"wrapped data key (GenerateDataKey)\")",
            ordered("table", "customers", "column", "iban", "row", "42"),
            "00000003"
                + "00000006636f6c756d6e000000046962616e"
                + "00000003726f77000000023432"
                + "000000057461626c6500000009637573746f6d657273"),
        Arguments.of(
            "UTF-8 byte order, not UTF-16 order (server vector \"context sort order is UTF-8 byte"
                + " order\")",
            ordered(
                "\uD83D\uDE00", "grin", "\uFF21", "fullwidth A", "Z", "z", "a", "\u00e9t\u00e9"),
            "00000004"
                + "000000015a000000017a"
                + "000000016100000005c3a974c3a9"
                + "00000003efbca10000000b66756c6c77696474682041"
                + "00000004f09f9880000000046772696e"),
        Arguments.of(
            "UTF-8 byte order, not UTF-16 order (envelope vector)",
            ordered(
                "z",
                "first in both orders",
                "\u00e9",
                "e-acute",
                "\uD83D\uDE00",
                "before U+FFFD in UTF-16, after it in UTF-8",
                "\uFFFD",
                "replacement character"),
            "00000004000000017a00000014666972737420696e20626f7468206f726465727300000002c3a9000000"
                + "07652d616375746500000003efbfbd000000157265706c6163656d656e742063686172616374"
                + "657200000004f09f98800000002a6265666f726520552b4646464420696e205554462d31362c"
                + "20616674657220697420696e205554462d38"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void encoding_knownAnswerVector_matchesByteForByte(
      String name, Map<String, String> context, String expectedHex) {
    assertEquals(expectedHex, HEX.formatHex(EncryptionContext.of(context).encoding()));
  }

  @Test
  void emptyContext_encodesAsFourZeroBytes() {
    EncryptionContext empty = EncryptionContext.of(Map.of());

    assertSame(EncryptionContext.EMPTY, empty);
    assertArrayEquals(new byte[4], empty.encoding());
    assertEquals(4, empty.encodedLength());
    assertTrue(empty.isEmpty());
  }

  @Test
  void encoding_independentOfTheMapsIterationOrder() {
    String[] keys = {"b", "a", "\uFF21", "\uD83D\uDE00", "aa", "A", "\u00e9"};
    Map<String, String> forward = new LinkedHashMap<>();
    Map<String, String> backward = new LinkedHashMap<>();
    for (String key : keys) {
      forward.put(key, "v" + key);
    }
    for (int i = keys.length - 1; i >= 0; i--) {
      backward.put(keys[i], "v" + keys[i]);
    }

    assertArrayEquals(
        EncryptionContext.of(forward).encoding(), EncryptionContext.of(backward).encoding());
    assertArrayEquals(
        EncryptionContext.of(new TreeMap<>(forward)).encoding(),
        EncryptionContext.of(new HashMap<>(forward)).encoding());
    assertEquals(EncryptionContext.of(forward), EncryptionContext.of(backward));
    assertEquals(
        EncryptionContext.of(forward).hashCode(), EncryptionContext.of(backward).hashCode());
  }

  @Test
  void order_isUnsignedUtf8BytesWhereJavaStringOrderDiffers() {
    String fullwidthA = "\uFF21"; // EF BC A1
    String grin = "\uD83D\uDE00"; // F0 9F 98 80; a surrogate pair, so first in UTF-16 order
    assertTrue(grin.compareTo(fullwidthA) < 0, "Java's own order puts U+1F600 first");

    EncryptionContext context = EncryptionContext.of(ordered(grin, "1", fullwidthA, "2"));

    assertEquals(List.of(fullwidthA, grin), List.copyOf(context.toMap().keySet()));
  }

  @Test
  void order_nonAsciiKeysAfterAsciiAndByByteValue() {
    // 'Z' 0x5A < 'a' 0x61 < U+00E9 (C3 A9) < U+0100 (C4 80): high bytes compare unsigned.
    EncryptionContext context =
        EncryptionContext.of(ordered("\u0100", "4", "\u00e9", "3", "a", "2", "Z", "1"));

    assertEquals(List.of("Z", "a", "\u00e9", "\u0100"), List.copyOf(context.toMap().keySet()));
    assertEquals(List.of("1", "2", "3", "4"), List.copyOf(context.toMap().values()));
  }

  @Test
  void encoding_isLengthPrefixedSoPairsCannotBeShifted() {
    // Without lengths, {"ab": "c"} and {"a": "bc"} would both read "abc".
    assertNotEquals(
        EncryptionContext.of(Map.of("ab", "c")), EncryptionContext.of(Map.of("a", "bc")));
    assertFalse(
        HEX.formatHex(EncryptionContext.of(Map.of("ab", "c")).encoding())
            .equals(HEX.formatHex(EncryptionContext.of(Map.of("a", "bc")).encoding())));
  }

  @Test
  void encoding_returnsACopy() {
    EncryptionContext context = EncryptionContext.of(Map.of("k", "v"));
    byte[] first = context.encoding();
    first[0] = 9;

    assertEquals("00000001", HEX.formatHex(context.encoding(), 0, 4));
  }

  @Test
  void emptyKey_refused() {
    InvalidEncryptionContextException refused =
        assertThrows(
            InvalidEncryptionContextException.class,
            () -> EncryptionContext.of(ordered("tenant", "acme", "", "secret-value")));

    assertEquals(Rule.KEYS_NOT_EMPTY, refused.rule());
    assertFalse(refused.getMessage().contains("secret-value"));
  }

  @Test
  void emptyValue_allowed() {
    assertEquals(1, EncryptionContext.of(Map.of("k", "")).size());
  }

  @Test
  void unpairedSurrogates_refusedInKeysAndValues() {
    List<Map<String, String>> invalid =
        List.of(
            Map.of("k", "\uD800"), // a lone high surrogate
            Map.of("k", "ok\uDC00ok"), // a lone low surrogate
            Map.of("\uD83D", "v"), // a key cut inside its pair
            Map.of("k", "\uDE00\uD83D"), // a pair in the wrong order
            Map.of("k", "x\uD83D")); // a high surrogate at the end
    for (Map<String, String> context : invalid) {
      InvalidEncryptionContextException refused =
          assertThrows(
              InvalidEncryptionContextException.class,
              () -> EncryptionContext.of(context),
              context.toString());
      assertEquals(Rule.VALID_UNICODE, refused.rule(), context.toString());
    }
  }

  @Test
  void size_exactlyTheCapAccepted_oneByteMoreRefused() {
    // 4 (count) + 4 + 1 ("k") + 4 + value length = 8192
    String fits = "v".repeat(EncryptionContext.MAX_ENCODED_BYTES - 13);

    assertEquals(
        EncryptionContext.MAX_ENCODED_BYTES,
        EncryptionContext.of(Map.of("k", fits)).encodedLength());
    InvalidEncryptionContextException refused =
        assertThrows(
            InvalidEncryptionContextException.class,
            () -> EncryptionContext.of(Map.of("k", fits + "v")));
    assertEquals(Rule.AT_MOST_MAX_ENCODED_BYTES, refused.rule());
  }

  @Test
  void size_countsUtf8BytesAndEveryPairsLengths() {
    // 4 + 1000 pairs of (4 + 4 key bytes + 4 + 0) = 12,004 bytes although each pair is small.
    Map<String, String> many = new HashMap<>();
    for (int i = 0; i < 1000; i++) {
      many.put(String.format("k%03d", i), "");
    }

    assertEquals(
        Rule.AT_MOST_MAX_ENCODED_BYTES,
        assertThrows(InvalidEncryptionContextException.class, () -> EncryptionContext.of(many))
            .rule());
    // 2,727 three-byte characters are 8,181 UTF-8 bytes, 8,194 with 13 bytes of framing: too many;
    // one character fewer fits (8,191 bytes).
    assertEquals(
        Rule.AT_MOST_MAX_ENCODED_BYTES,
        assertThrows(
                InvalidEncryptionContextException.class,
                () -> EncryptionContext.of(Map.of("k", "\u20ac".repeat(2727))))
            .rule());
    assertEquals(
        EncryptionContext.MAX_ENCODED_BYTES - 1,
        EncryptionContext.of(Map.of("k", "\u20ac".repeat(2726))).encodedLength());
  }

  @Test
  void nulls_refused() {
    Map<String, String> nullValue = new HashMap<>();
    nullValue.put("k", null);
    Map<String, String> nullKey = new HashMap<>();
    nullKey.put(null, "v");

    assertEquals(
        Rule.NO_NULLS,
        assertThrows(InvalidEncryptionContextException.class, () -> EncryptionContext.of(nullValue))
            .rule());
    assertEquals(
        Rule.NO_NULLS,
        assertThrows(InvalidEncryptionContextException.class, () -> EncryptionContext.of(nullKey))
            .rule());
    assertThrows(NullPointerException.class, () -> EncryptionContext.of(null));
  }

  @Test
  void refusals_areIllegalArgumentExceptions() {
    assertThrows(IllegalArgumentException.class, () -> EncryptionContext.of(Map.of("", "v")));
  }

  @Test
  void toString_showsKeysButNoValues() {
    String shown = EncryptionContext.of(Map.of("tenant", "acme-secret")).toString();

    assertTrue(shown.contains("tenant"), shown);
    assertFalse(shown.contains("acme-secret"), shown);
  }

  @Test
  void toMap_isUnmodifiable() {
    Map<String, String> pairs = EncryptionContext.of(Map.of("k", "v")).toMap();

    assertThrows(UnsupportedOperationException.class, () -> pairs.put("x", "y"));
    assertEquals(Map.of("k", "v"), pairs);
  }
}
