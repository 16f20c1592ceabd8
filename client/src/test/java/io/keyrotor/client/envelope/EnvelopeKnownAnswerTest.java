package io.keyrotor.client.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.keyrotor.crypto.EncryptionContext;
import io.keyrotor.crypto.InvalidEncryptionContextException;
import io.keyrotor.crypto.SecretBytes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The envelope formats pinned by known-answer vectors in {@code envelope/vectors.json}, which
 * {@code envelope/generate_vectors.py} computes from docs/envelope-format.md with Python's {@code
 * cryptography} package, independently of this SDK.
 */
class EnvelopeKnownAnswerTest {

  private static final HexFormat HEX = HexFormat.of();
  private static final JsonObject VECTORS = load();

  private static JsonObject load() {
    try (InputStream in =
        EnvelopeKnownAnswerTest.class.getResourceAsStream("/envelope/vectors.json")) {
      return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8))
          .getAsJsonObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Stream<Arguments> vectors(String group) {
    return StreamSupport.stream(VECTORS.getAsJsonArray(group).spliterator(), false)
        .map(element -> element.getAsJsonObject())
        .map(vector -> Arguments.of(vector.get("name").getAsString(), vector));
  }

  static Stream<Arguments> contextVectors() {
    return vectors("context_encoding");
  }

  static Stream<Arguments> refusedContextVectors() {
    return vectors("context_refused");
  }

  static Stream<Arguments> oneShotVectors() {
    return vectors("one_shot");
  }

  static Stream<Arguments> streamVectors() {
    return vectors("stream");
  }

  private static byte[] hex(JsonObject vector, String field) {
    return HEX.parseHex(vector.get(field).getAsString());
  }

  private static Map<String, String> context(JsonObject vector) {
    Map<String, String> context = new LinkedHashMap<>();
    vector
        .getAsJsonObject("context")
        .entrySet()
        .forEach(e -> context.put(e.getKey(), e.getValue().getAsString()));
    return context;
  }

  /** A source that unwraps only the vector's wrapped key under the vector's context. */
  private static DataKeySource fixedSource(JsonObject vector) {
    byte[] dek = hex(vector, "dek_hex");
    byte[] wrapped = hex(vector, "wrapped_dek_hex");
    Map<String, String> expectedContext = context(vector);
    return new DataKeySource() {
      @Override
      public DataKey generate(String keyName, Map<String, String> context) {
        return new DataKey(SecretBytes.copyOf(dek), wrapped, keyName, 3);
      }

      @Override
      public DataKey unwrap(byte[] candidate, Map<String, String> context) {
        assertArrayEquals(wrapped, candidate, "wrapped data key read from the header");
        assertEquals(expectedContext, context);
        return new DataKey(SecretBytes.copyOf(dek), candidate, "payments", 3);
      }
    };
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("contextVectors")
  void contextEncoding_vector_matchesByteForByte(String name, JsonObject vector) {
    assertEquals(
        vector.get("encoding_hex").getAsString(),
        HEX.formatHex(EncryptionContext.of(context(vector)).encoding()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedContextVectors")
  void refusedContext_vector_isRefusedForTheSameRuleBeforeAnyServerCall(
      String name, JsonObject vector) {
    LocalDataKeys dataKeys = new LocalDataKeys();
    EnvelopeCipher cipher = EnvelopeCipher.builder(dataKeys).build();

    InvalidEncryptionContextException refused =
        assertThrows(
            InvalidEncryptionContextException.class,
            () -> cipher.encrypt("payments", new byte[1], context(vector)));

    assertEquals(vector.get("rule").getAsString(), refused.rule().name());
    assertEquals(0, dataKeys.generated.get(), "refused before asking for a data key");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("oneShotVectors")
  void oneShotSeal_vectorInputs_produceExpectedEnvelope(String name, JsonObject vector) {
    byte[] envelope =
        BlobFormat.seal(
            SecretBytes.copyOf(hex(vector, "dek_hex")),
            hex(vector, "wrapped_dek_hex"),
            hex(vector, "nonce_hex"),
            EncryptionContext.of(context(vector)).encoding(),
            hex(vector, "plaintext_hex"));

    assertEquals(vector.get("envelope_hex").getAsString(), HEX.formatHex(envelope));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("oneShotVectors")
  void oneShotDecrypt_expectedEnvelope_returnsPlaintext(String name, JsonObject vector) {
    EnvelopeCipher cipher = EnvelopeCipher.builder(fixedSource(vector)).build();

    byte[] plaintext = cipher.decrypt(hex(vector, "envelope_hex"), context(vector));

    assertArrayEquals(hex(vector, "plaintext_hex"), plaintext);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streamVectors")
  void streamWrite_vectorInputs_produceExpectedEnvelope(String name, JsonObject vector)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    DataKey dataKey =
        new DataKey(
            SecretBytes.takeOwnership(hex(vector, "dek_hex")),
            hex(vector, "wrapped_dek_hex"),
            "k",
            3);
    try (EnvelopeOutputStream stream =
        new EnvelopeOutputStream(
            out,
            dataKey,
            EncryptionContext.of(context(vector)).encoding(),
            vector.get("segment_size").getAsInt(),
            hex(vector, "salt_hex"),
            hex(vector, "nonce_prefix_hex"))) {
      byte[] plaintext = hex(vector, "plaintext_hex");
      // Odd-sized writes, so segment boundaries never line up with write boundaries.
      for (int offset = 0; offset < plaintext.length; offset += 7) {
        stream.write(plaintext, offset, Math.min(7, plaintext.length - offset));
      }
    }

    assertEquals(vector.get("envelope_hex").getAsString(), HEX.formatHex(out.toByteArray()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streamVectors")
  void streamDecrypt_expectedEnvelope_returnsPlaintext(String name, JsonObject vector)
      throws IOException {
    EnvelopeCipher cipher = EnvelopeCipher.builder(fixedSource(vector)).build();
    byte[] envelope = hex(vector, "envelope_hex");

    try (EnvelopeInputStream in =
        cipher.decryptingStream(new ByteArrayInputStream(envelope), context(vector))) {
      assertArrayEquals(hex(vector, "plaintext_hex"), in.readAllBytes());
    }
    assertArrayEquals(hex(vector, "plaintext_hex"), cipher.decrypt(envelope, context(vector)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("streamVectors")
  void segmentKey_vectorInputs_matchesHkdfSha256(String name, JsonObject vector) {
    assertEquals(
        vector.get("segment_key_hex").getAsString(),
        HEX.formatHex(
            StreamFormat.segmentKey(
                    SecretBytes.copyOf(hex(vector, "dek_hex")), hex(vector, "salt_hex"))
                .revealCopy()));
  }

  @Test
  void hkdfSha256_rfc5869TestCase1_matches() {
    byte[] okm =
        Hkdf.sha256(
            HEX.parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            HEX.parseHex("000102030405060708090a0b0c"),
            HEX.parseHex("f0f1f2f3f4f5f6f7f8f9"),
            42);

    assertEquals(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        HEX.formatHex(okm));
  }

  @Test
  void hkdfSha256_rfc5869TestCase3EmptySaltAndInfo_matches() {
    byte[] okm =
        Hkdf.sha256(
            HEX.parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            new byte[0],
            new byte[0],
            42);

    assertEquals(
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        HEX.formatHex(okm));
  }
}
