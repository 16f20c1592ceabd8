package io.keyrotor.server.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.keyrotor.api.v1.ErrorReason;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import javax.crypto.spec.SecretKeySpec;

/**
 * Fuzzes the ciphertext envelope parser and the AES-GCM opening behind it with arbitrary bytes:
 * every input either parses into a header whose parts lie inside the blob, or is refused with
 * INVALID_CIPHERTEXT and a message; nothing else is ever thrown, and only the blob that was sealed
 * with the test key opens. Seeds (valid ciphertexts under an all-zero key, their truncations and
 * odd headers) are in
 * src/test/resources/io/keyrotor/server/dataplane/CiphertextFormatFuzzTestInputs. {@code mvn
 * verify} runs the seeds and the crashes found so far; {@code scripts/fuzz} fuzzes.
 */
class CiphertextFormatFuzzTest {
  /**
   * The key the seed ciphertexts were sealed under (docs/ciphertext-format.md's test vector key).
   */
  static final SecretKeySpec ZERO_KEY = new SecretKeySpec(new byte[32], "AES");

  /** The context the seed ciphertexts were sealed with. */
  static final Map<String, String> SEED_CONTEXT = Map.of("tenant", "acme");

  @FuzzTest(maxDuration = "10s")
  void parseAndOpen(byte[] blob) throws DataPlaneException {
    byte[] before = blob.clone();
    CiphertextFormat.Parsed parsed;
    try {
      parsed = CiphertextFormat.parse(blob);
    } catch (DataPlaneException e) {
      assertRefusal(e);
      return;
    }
    assertTrue(parsed.headerLength() >= CiphertextFormat.headerLength(1), "header length");
    assertTrue(parsed.plaintextLength() >= 0, "room for the tag");
    assertTrue(parsed.keyVersion() >= 1 && parsed.keyVersion() <= 0xFFFF_FFFFL, "key version");
    byte[] name = parsed.keyName().getBytes(StandardCharsets.US_ASCII);
    assertArrayEquals(name, CiphertextFormat.keyNameBytes(parsed.keyName()), "valid key name");
    assertEquals(
        parsed.headerLength(), CiphertextFormat.headerLength(name.length), "name length agrees");
    byte[] context = CiphertextFormat.encodeContext(SEED_CONTEXT);
    try {
      byte[] plaintext = AesGcm.open(ZERO_KEY, parsed, context);
      assertEquals(parsed.plaintextLength(), plaintext.length, "plaintext length");
      // Only a blob this key sealed opens: sealing the plaintext again with the same nonce gives
      // it.
      byte[] nonce = Arrays.copyOfRange(blob, parsed.nonceOffset(), parsed.nonceOffset() + 12);
      byte[] again =
          AesGcm.seal(
              ZERO_KEY,
              parsed.keyName(),
              parsed.keyVersion(),
              nonce,
              context,
              plaintext,
              0,
              plaintext.length);
      assertArrayEquals(blob, again, "an opened blob is exactly what sealing makes");
    } catch (DataPlaneException e) {
      assertRefusal(e);
    }
    assertArrayEquals(before, blob, "parsing never changes its input");
  }

  private static void assertRefusal(DataPlaneException e) {
    assertEquals(ErrorReason.INVALID_CIPHERTEXT, e.reason(), e.getMessage());
    assertTrue(
        e.getMessage().startsWith("the ciphertext is not a valid keyrotor ciphertext: ")
            || e.getMessage().contains("authentic"),
        e.getMessage());
    assertFalse(e.metadata().getOrDefault("problem", "").isBlank(), "a problem code");
  }
}
