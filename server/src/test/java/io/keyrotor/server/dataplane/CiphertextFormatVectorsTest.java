package io.keyrotor.server.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.keyrotor.api.v1.ErrorReason;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The known-answer vectors of docs/ciphertext-format.md, produced by an independent Python
 * implementation (docs/ciphertext-format-reference.py), checked in both directions: this server
 * seals exactly the expected bytes, and opens them back; every invalid vector is refused with the
 * expected problem.
 */
class CiphertextFormatVectorsTest {
  private static final HexFormat HEX = HexFormat.of();

  private static JsonObject vectors() throws Exception {
    try (InputStream in =
        CiphertextFormatVectorsTest.class.getResourceAsStream(
            "/ciphertext-format-v1-vectors.json")) {
      return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
          .getAsJsonObject();
    }
  }

  private static Map<String, String> context(JsonObject vector) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : vector.getAsJsonObject("context").entrySet()) {
      out.put(e.getKey(), e.getValue().getAsString());
    }
    return out;
  }

  private static byte[] hex(JsonObject vector, String field) {
    return HEX.parseHex(vector.get(field).getAsString());
  }

  @Test
  void validVectors_sealToTheExpectedBytes() throws Exception {
    JsonArray valid = vectors().getAsJsonArray("valid");
    assertTrue(valid.size() >= 5);
    for (JsonElement element : valid) {
      JsonObject v = element.getAsJsonObject();
      String description = v.get("description").getAsString();
      byte[] plaintext = hex(v, "plaintext_hex");
      byte[] context = CiphertextFormat.encodeContext(context(v));
      assertArrayEquals(hex(v, "context_encoding_hex"), context, description);

      byte[] sealed =
          AesGcm.seal(
              new SecretKeySpec(hex(v, "kek_hex"), "AES"),
              v.get("key_name").getAsString(),
              v.get("key_version").getAsLong(),
              hex(v, "nonce_hex"),
              context,
              plaintext,
              0,
              plaintext.length);

      assertEquals(v.get("ciphertext_hex").getAsString(), HEX.formatHex(sealed), description);
      byte[] header = hex(v, "header_hex");
      assertEquals(
          HEX.formatHex(header), HEX.formatHex(sealed, 0, header.length), "header " + description);
    }
  }

  @Test
  void validVectors_openToThePlaintext() throws Exception {
    for (JsonElement element : vectors().getAsJsonArray("valid")) {
      JsonObject v = element.getAsJsonObject();
      String description = v.get("description").getAsString();
      CiphertextFormat.Parsed parsed = CiphertextFormat.parse(hex(v, "ciphertext_hex"));

      assertEquals(v.get("key_name").getAsString(), parsed.keyName(), description);
      assertEquals(v.get("key_version").getAsLong(), parsed.keyVersion(), description);
      assertEquals(hex(v, "header_hex").length, parsed.headerLength(), description);
      byte[] plaintext =
          AesGcm.open(
              new SecretKeySpec(hex(v, "kek_hex"), "AES"),
              parsed,
              CiphertextFormat.encodeContext(context(v)));
      assertArrayEquals(hex(v, "plaintext_hex"), plaintext, description);
    }
  }

  @Test
  void invalidVectors_refusedWithTheExpectedProblem() throws Exception {
    JsonArray invalid = vectors().getAsJsonArray("invalid");
    assertTrue(invalid.size() >= 10);
    for (JsonElement element : invalid) {
      JsonObject v = element.getAsJsonObject();
      String description = v.get("description").getAsString();
      byte[] blob = hex(v, "ciphertext_hex");
      byte[] context = CiphertextFormat.encodeContext(context(v));
      SecretKeySpec kek = new SecretKeySpec(hex(v, "kek_hex"), "AES");

      DataPlaneException refused =
          assertThrows(
              DataPlaneException.class,
              () -> AesGcm.open(kek, CiphertextFormat.parse(blob), context),
              description);

      assertEquals(ErrorReason.INVALID_CIPHERTEXT, refused.reason(), description);
      assertEquals(v.get("problem").getAsString(), refused.metadata().get("problem"), description);
    }
  }
}
