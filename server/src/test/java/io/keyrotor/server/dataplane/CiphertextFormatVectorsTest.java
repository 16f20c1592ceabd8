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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
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

  /** One vector of the file. */
  private record Vector(JsonObject json) {
    String description() {
      return text("description");
    }

    String text(String field) {
      return json.get(field).getAsString();
    }

    long keyVersion() {
      return json.get("key_version").getAsLong();
    }

    byte[] hex(String field) {
      return HEX.parseHex(text(field));
    }

    SecretKeySpec kek() {
      return new SecretKeySpec(hex("kek_hex"), "AES");
    }

    /** The canonical encoding of the vector's encryption context. */
    byte[] context() throws DataPlaneException {
      Map<String, String> context = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> e : json.getAsJsonObject("context").entrySet()) {
        context.put(e.getKey(), e.getValue().getAsString());
      }
      return CiphertextFormat.encodeContext(context);
    }
  }

  /** The {@code valid} or the {@code invalid} vectors; fails unless there are {@code atLeast}. */
  private static List<Vector> vectors(String kind, int atLeast) throws Exception {
    try (InputStream in =
        CiphertextFormatVectorsTest.class.getResourceAsStream(
            "/ciphertext-format-v1-vectors.json")) {
      JsonArray vectors =
          JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
              .getAsJsonObject()
              .getAsJsonArray(kind);
      List<Vector> out = new ArrayList<>();
      vectors.forEach(element -> out.add(new Vector(element.getAsJsonObject())));
      assertTrue(out.size() >= atLeast, kind + " vectors: " + out.size());
      return out;
    }
  }

  @Test
  void validVectors_sealToTheExpectedBytes() throws Exception {
    for (Vector v : vectors("valid", 5)) {
      byte[] plaintext = v.hex("plaintext_hex");
      byte[] context = v.context();
      assertArrayEquals(v.hex("context_encoding_hex"), context, v.description());

      byte[] sealed =
          AesGcm.seal(
              v.kek(),
              v.text("key_name"),
              v.keyVersion(),
              v.hex("nonce_hex"),
              context,
              plaintext,
              0,
              plaintext.length);

      assertEquals(v.text("ciphertext_hex"), HEX.formatHex(sealed), v.description());
      byte[] header = v.hex("header_hex");
      assertEquals(
          HEX.formatHex(header),
          HEX.formatHex(sealed, 0, header.length),
          "header " + v.description());
    }
  }

  @Test
  void validVectors_openToThePlaintext() throws Exception {
    for (Vector v : vectors("valid", 5)) {
      CiphertextFormat.Parsed parsed = CiphertextFormat.parse(v.hex("ciphertext_hex"));

      assertEquals(v.text("key_name"), parsed.keyName(), v.description());
      assertEquals(v.keyVersion(), parsed.keyVersion(), v.description());
      assertEquals(v.hex("header_hex").length, parsed.headerLength(), v.description());
      byte[] plaintext = AesGcm.open(v.kek(), parsed, v.context());
      assertArrayEquals(v.hex("plaintext_hex"), plaintext, v.description());
    }
  }

  @Test
  void invalidVectors_refusedWithTheExpectedProblem() throws Exception {
    for (Vector v : vectors("invalid", 10)) {
      byte[] context = v.context();

      DataPlaneException refused =
          assertThrows(
              DataPlaneException.class,
              () -> AesGcm.open(v.kek(), CiphertextFormat.parse(v.hex("ciphertext_hex")), context),
              v.description());

      assertEquals(ErrorReason.INVALID_CIPHERTEXT, refused.reason(), v.description());
      assertEquals(v.text("problem"), refused.metadata().get("problem"), v.description());
    }
  }
}
