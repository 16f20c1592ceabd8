package io.keyrotor.server.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.keyrotor.api.v1.ErrorReason;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The envelope's structure, its canonical context encoding, and what never decrypts. */
class CiphertextFormatTest {
  private static final SecretKeySpec KEK = new SecretKeySpec(new byte[32], "AES");
  private static final byte[] NONCE = HexFormat.of().parseHex("000102030405060708090a0b");
  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme", "purpose", "x");

  private static byte[] sealed(String plaintext) throws DataPlaneException {
    byte[] bytes = plaintext.getBytes(StandardCharsets.UTF_8);
    return AesGcm.seal(
        KEK, "orders", 2, NONCE, CiphertextFormat.encodeContext(CONTEXT), bytes, 0, bytes.length);
  }

  private static DataPlaneException refused(byte[] blob, Map<String, String> context) {
    return assertThrows(
        DataPlaneException.class,
        () ->
            AesGcm.open(
                KEK, CiphertextFormat.parse(blob), CiphertextFormat.encodeContext(context)));
  }

  @Test
  void seal_layoutIsMagicVersionNameKeyVersionNonceCiphertextTag() throws Exception {
    byte[] blob = sealed("abc");

    assertEquals(2 + 1 + 2 + 6 + 4 + 12 + 3 + 16, blob.length);
    assertEquals("4b5201", HexFormat.of().formatHex(blob, 0, 3));
    assertEquals("0006", HexFormat.of().formatHex(blob, 3, 5));
    assertEquals("orders", new String(blob, 5, 6, StandardCharsets.US_ASCII));
    assertEquals("00000002", HexFormat.of().formatHex(blob, 11, 15));
    assertArrayEquals(NONCE, Arrays.copyOfRange(blob, 15, 27));
    CiphertextFormat.Parsed parsed = CiphertextFormat.parse(blob);
    assertEquals(27, parsed.headerLength());
    assertEquals(3, parsed.plaintextLength());
  }

  @Test
  void everySingleBitFlip_failsAndNeverReturnsPlaintext() throws Exception {
    byte[] good = sealed("a secret worth keeping");
    for (int i = 0; i < good.length * 8; i++) {
      byte[] flipped = good.clone();
      flipped[i / 8] ^= (byte) (1 << (i % 8));
      DataPlaneException e = refused(flipped, CONTEXT);
      assertEquals(ErrorReason.INVALID_CIPHERTEXT, e.reason(), "bit " + i);
      assertFalse(e.getMessage().contains("secret"), "no plaintext in the message");
    }
  }

  @Test
  void everyTruncation_fails() throws Exception {
    byte[] good = sealed("truncate me");
    for (int length = 0; length < good.length; length++) {
      DataPlaneException e = refused(Arrays.copyOf(good, length), CONTEXT);
      assertEquals(ErrorReason.INVALID_CIPHERTEXT, e.reason(), "length " + length);
    }
  }

  @Test
  void appendedBytes_fail() throws Exception {
    byte[] good = sealed("extend me");
    assertEquals(
        "AUTHENTICATION_FAILED",
        refused(Arrays.copyOf(good, good.length + 1), CONTEXT).metadata().get("problem"));
  }

  @Test
  void otherContext_fails() throws Exception {
    byte[] good = sealed("bound to a context");
    assertEquals("AUTHENTICATION_FAILED", refused(good, Map.of()).metadata().get("problem"));
    assertEquals(
        "AUTHENTICATION_FAILED",
        refused(good, Map.of("tenant", "acme", "purpose", "y")).metadata().get("problem"));
    assertEquals(
        "AUTHENTICATION_FAILED", refused(good, Map.of("tenant", "acme")).metadata().get("problem"));
  }

  @Test
  void unknownFormatVersion_namedAsSuch() throws Exception {
    byte[] blob = sealed("v2?");
    blob[2] = 2;
    DataPlaneException e =
        assertThrows(DataPlaneException.class, () -> CiphertextFormat.parse(blob));
    assertEquals("UNKNOWN_FORMAT_VERSION", e.metadata().get("problem"));
  }

  @Test
  void headerWithInvalidKeyName_malformed() throws Exception {
    byte[] blob = sealed("x");
    blob[5] = '.'; // a key name must start with a letter or digit
    assertEquals(
        "MALFORMED",
        assertThrows(DataPlaneException.class, () -> CiphertextFormat.parse(blob))
            .metadata()
            .get("problem"));
  }

  @Test
  void contextEncoding_independentOfMapOrder() throws Exception {
    Map<String, String> forward = new LinkedHashMap<>();
    Map<String, String> backward = new LinkedHashMap<>();
    String[] keys = {"b", "a", "\uFF21", "\uD83D\uDE00", "aa", "A"};
    for (String k : keys) {
      forward.put(k, "v" + k);
    }
    for (int i = keys.length - 1; i >= 0; i--) {
      backward.put(keys[i], "v" + keys[i]);
    }
    assertArrayEquals(
        CiphertextFormat.encodeContext(forward), CiphertextFormat.encodeContext(backward));
    assertArrayEquals(
        CiphertextFormat.encodeContext(new TreeMap<>(forward)),
        CiphertextFormat.encodeContext(new HashMap<>(forward)));
  }

  @Test
  void contextEncoding_isLengthPrefixedSoPairsCannotBeShifted() throws Exception {
    // Without lengths, {"ab": "c"} and {"a": "bc"} would both read "abc".
    assertFalse(
        Arrays.equals(
            CiphertextFormat.encodeContext(Map.of("ab", "c")),
            CiphertextFormat.encodeContext(Map.of("a", "bc"))));
    assertEquals("00000000", HexFormat.of().formatHex(CiphertextFormat.encodeContext(Map.of())));
  }

  @Test
  void contextEncoding_refusesEmptyKeysLoneSurrogatesAndHugeContexts() {
    assertEquals(
        ErrorReason.INVALID_CONTEXT,
        assertThrows(
                DataPlaneException.class, () -> CiphertextFormat.encodeContext(Map.of("", "v")))
            .reason());
    assertEquals(
        ErrorReason.INVALID_CONTEXT,
        assertThrows(
                DataPlaneException.class,
                () -> CiphertextFormat.encodeContext(Map.of("k", "\uD800")))
            .reason());
    assertEquals(
        ErrorReason.INVALID_CONTEXT,
        assertThrows(
                DataPlaneException.class,
                () -> CiphertextFormat.encodeContext(Map.of("k", "v".repeat(9000))))
            .reason());
  }
}
