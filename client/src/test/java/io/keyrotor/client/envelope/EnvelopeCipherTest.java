package io.keyrotor.client.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.client.KeyrotorException;
import io.keyrotor.crypto.EncryptionContext;
import io.keyrotor.crypto.InvalidEncryptionContextException;
import io.keyrotor.crypto.InvalidEncryptionContextException.Rule;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** One-shot envelopes against an in-process data-key source: round trips and every bad input. */
class EnvelopeCipherTest {

  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme", "table", "orders");

  private final LocalDataKeys dataKeys = new LocalDataKeys();
  private final EnvelopeCipher cipher = EnvelopeCipher.builder(dataKeys).build();

  private static byte[] bytes(int length) {
    byte[] bytes = new byte[length];
    new SplittableRandom(length).nextBytes(bytes);
    return bytes;
  }

  private static int headerLength(byte[] envelope) {
    return 3 + (((envelope[1] & 0xFF) << 8) | (envelope[2] & 0xFF)) + 12;
  }

  @Test
  void encryptThenDecrypt_variousSizes_returnsPlaintext() {
    for (int size : new int[] {0, 1, 15, 16, 17, 1000, 70_000}) {
      byte[] plaintext = bytes(size);

      byte[] envelope = cipher.encrypt("payments", plaintext, CONTEXT);

      assertEquals(headerLength(envelope) + size + 16, envelope.length);
      assertArrayEquals(plaintext, cipher.decrypt(envelope, CONTEXT), "size " + size);
    }
  }

  @Test
  void encrypt_layout_startsWithFormatByteAndCarriesTheWrappedKeyInTheClear() {
    byte[] envelope = cipher.encrypt("payments", bytes(10), CONTEXT);

    assertEquals(0x01, envelope[0]);
    byte[] wrapped = dataKeys.handedOut.get(0).wrapped();
    assertEquals(wrapped.length, ((envelope[1] & 0xFF) << 8) | (envelope[2] & 0xFF));
    assertArrayEquals(wrapped, Arrays.copyOfRange(envelope, 3, 3 + wrapped.length));
  }

  @Test
  void encrypt_twice_usesFreshDataKeysAndNonces() {
    byte[] first = cipher.encrypt("payments", bytes(10), CONTEXT);
    byte[] second = cipher.encrypt("payments", bytes(10), CONTEXT);

    assertEquals(2, dataKeys.generated.get());
    assertFalse(Arrays.equals(first, second));
  }

  @Test
  void encryptAndDecrypt_withoutCache_zeroEveryDataKeyAfterUse() {
    byte[] envelope = cipher.encrypt("payments", bytes(100), CONTEXT);
    cipher.decrypt(envelope, CONTEXT);

    assertEquals(2, dataKeys.handedOut.size());
    assertTrue(dataKeys.allHandedOutZeroed());
  }

  @Test
  void decrypt_eachHeaderByteChanged_failsWithoutPlaintext() {
    byte[] envelope =
        cipher.encrypt("payments", "secret".getBytes(StandardCharsets.UTF_8), CONTEXT);
    int header = headerLength(envelope);
    int wrappedEnd = header - 12;

    for (int i = 0; i < header; i++) {
      byte[] tampered = envelope.clone();
      tampered[i] ^= 0x01;

      RuntimeException error =
          assertThrows(RuntimeException.class, () -> cipher.decrypt(tampered, CONTEXT));

      if (i == 0) {
        assertReason(EnvelopeException.Reason.UNSUPPORTED_FORMAT, error);
      } else if (i < 3) {
        // A changed length moves the nonce and the wrapped key: short envelope or server refusal.
        assertTrue(
            error instanceof EnvelopeException || error instanceof KeyrotorException,
            error.toString());
      } else if (i < wrappedEnd) {
        assertEquals("INVALID_CIPHERTEXT", ((KeyrotorException) error).reason(), "byte " + i);
      } else {
        assertReason(EnvelopeException.Reason.AUTHENTICATION_FAILED, error);
      }
    }
  }

  @Test
  void decrypt_eachCiphertextOrTagByteChanged_failsAuthentication() {
    byte[] envelope = cipher.encrypt("payments", bytes(40), CONTEXT);

    for (int i = headerLength(envelope); i < envelope.length; i++) {
      byte[] tampered = envelope.clone();
      tampered[i] ^= (byte) 0x80;

      assertReason(
          EnvelopeException.Reason.AUTHENTICATION_FAILED,
          assertThrows(EnvelopeException.class, () -> cipher.decrypt(tampered, CONTEXT)));
    }
  }

  @Test
  void decrypt_truncatedAtEveryLength_failsWithoutPlaintext() {
    byte[] envelope = cipher.encrypt("payments", bytes(40), CONTEXT);

    for (int length = 0; length < envelope.length; length++) {
      byte[] truncated = Arrays.copyOf(envelope, length);

      EnvelopeException error =
          assertThrows(EnvelopeException.class, () -> cipher.decrypt(truncated, CONTEXT));

      assertTrue(
          error.reason() == EnvelopeException.Reason.MALFORMED_ENVELOPE
              || error.reason() == EnvelopeException.Reason.AUTHENTICATION_FAILED,
          "length " + length + ": " + error.reason());
    }
  }

  @Test
  void decrypt_bytesAppended_failsAuthentication() {
    byte[] envelope = cipher.encrypt("payments", bytes(40), CONTEXT);
    byte[] extended = Arrays.copyOf(envelope, envelope.length + 1);

    assertReason(
        EnvelopeException.Reason.AUTHENTICATION_FAILED,
        assertThrows(EnvelopeException.class, () -> cipher.decrypt(extended, CONTEXT)));
  }

  @Test
  void decrypt_wrongContext_isRefusedByTheServerWhenItUnwrapsTheDataKey() {
    byte[] envelope = cipher.encrypt("payments", bytes(40), CONTEXT);

    KeyrotorException error =
        assertThrows(
            KeyrotorException.class,
            () -> cipher.decrypt(envelope, Map.of("tenant", "acme", "table", "refunds")));

    assertEquals("INVALID_CIPHERTEXT", error.reason());
  }

  @Test
  void decrypt_wrongContextWithServerIgnoringContext_stillFailsLocally() {
    dataKeys.ignoreContext = true;
    byte[] envelope = cipher.encrypt("payments", bytes(40), CONTEXT);

    for (Map<String, String> other :
        java.util.List.of(
            Map.<String, String>of(),
            Map.of("tenant", "acme"),
            Map.of("tenant", "acme", "table", "orders", "extra", ""),
            Map.of("tenant", "acme", "table", "Orders"))) {
      assertReason(
          EnvelopeException.Reason.AUTHENTICATION_FAILED,
          assertThrows(EnvelopeException.class, () -> cipher.decrypt(envelope, other)));
    }
  }

  @Test
  void decrypt_envelopeSpliceWithAnotherWrappedKey_failsAuthentication() {
    dataKeys.ignoreContext = true;
    byte[] victim = cipher.encrypt("payments", bytes(40), CONTEXT);
    byte[] other = cipher.encrypt("payments", bytes(40), CONTEXT);
    byte[] spliced = victim.clone();
    int wrappedEnd = headerLength(victim) - 12;
    System.arraycopy(other, 3, spliced, 3, wrappedEnd - 3); // same length: same key name

    assertReason(
        EnvelopeException.Reason.AUTHENTICATION_FAILED,
        assertThrows(EnvelopeException.class, () -> cipher.decrypt(spliced, CONTEXT)));
  }

  @Test
  void decrypt_emptyOrUnknownFormat_failsWithReason() {
    assertReason(
        EnvelopeException.Reason.MALFORMED_ENVELOPE,
        assertThrows(EnvelopeException.class, () -> cipher.decrypt(new byte[0], CONTEXT)));
    EnvelopeException unknown =
        assertThrows(
            EnvelopeException.class, () -> cipher.decrypt(new byte[] {0x09, 0, 0}, CONTEXT));
    assertReason(EnvelopeException.Reason.UNSUPPORTED_FORMAT, unknown);
    assertTrue(unknown.getMessage().contains("format byte 0x09"), unknown.getMessage());
  }

  @Test
  void encrypt_contextWithUnpairedSurrogate_isRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> cipher.encrypt("payments", bytes(1), Map.of("k", "\uD800")));
    assertEquals(0, dataKeys.generated.get(), "refused before asking for a data key");
  }

  /**
   * The SDK applies the server's context rules itself (a deliberate change: it used to allow empty
   * keys and any size, which the server then refused when it generated or unwrapped the data key).
   */
  @Test
  void everyOperation_contextWithAnEmptyKey_isRefusedBeforeAnyServerCall() throws Exception {
    assertEveryOperationRefuses(Map.of("", "a value", "tenant", "acme"), Rule.KEYS_NOT_EMPTY);
  }

  @Test
  void everyOperation_contextOverTheSizeLimit_isRefusedBeforeAnyServerCall() throws Exception {
    // 4 (count) + 4 + 1 ("k") + 4 + 8180 = 8193 bytes, one more than allowed.
    assertEveryOperationRefuses(Map.of("k", "v".repeat(8180)), Rule.AT_MOST_MAX_ENCODED_BYTES);
  }

  @Test
  void contextOfExactlyTheSizeLimit_roundTrips() {
    Map<String, String> largest = Map.of("k", "v".repeat(8179));
    assertEquals(
        EncryptionContext.MAX_ENCODED_BYTES, EncryptionContext.of(largest).encodedLength());

    byte[] envelope = cipher.encrypt("payments", bytes(5), largest);

    assertArrayEquals(bytes(5), cipher.decrypt(envelope, largest));
  }

  @Test
  void contextWithAnEmptyValue_isStillAllowed() {
    Map<String, String> emptyValue = Map.of("tenant", "acme", "note", "");

    byte[] envelope = cipher.encrypt("payments", bytes(5), emptyValue);

    assertArrayEquals(bytes(5), cipher.decrypt(envelope, emptyValue));
  }

  private void assertEveryOperationRefuses(Map<String, String> context, Rule rule)
      throws Exception {
    byte[] oneShot = cipher.encrypt("payments", bytes(10), CONTEXT);
    ByteArrayOutputStream streamed = new ByteArrayOutputStream();
    try (EnvelopeOutputStream out = cipher.encryptingStream(streamed, "payments", CONTEXT)) {
      out.write(bytes(10));
    }
    int generated = dataKeys.generated.get();
    int unwrapped = dataKeys.unwrapped.get();

    for (Executable operation :
        List.<Executable>of(
            () -> cipher.encrypt("payments", bytes(10), context),
            () -> cipher.decrypt(oneShot, context),
            () -> cipher.decrypt(streamed.toByteArray(), context),
            () -> cipher.encryptingStream(new ByteArrayOutputStream(), "payments", context),
            () ->
                cipher.decryptingStream(
                    new ByteArrayInputStream(streamed.toByteArray()), context))) {
      InvalidEncryptionContextException refused =
          assertThrows(InvalidEncryptionContextException.class, operation);
      assertEquals(rule, refused.rule());
      assertFalse(refused.getMessage().contains("a value"), refused.getMessage());
    }
    assertEquals(generated, dataKeys.generated.get(), "no GenerateDataKey for a refused context");
    assertEquals(unwrapped, dataKeys.unwrapped.get(), "no Decrypt for a refused context");
  }

  @Test
  void errorMessages_neverContainContextValues() {
    dataKeys.ignoreContext = true;
    byte[] envelope = cipher.encrypt("payments", bytes(3), CONTEXT);

    EnvelopeException error =
        assertThrows(
            EnvelopeException.class,
            () -> cipher.decrypt(envelope, Map.of("tenant", "wrong-tenant-value")));

    assertFalse(error.getMessage().contains("wrong-tenant-value"), error.getMessage());
  }

  static void assertReason(EnvelopeException.Reason expected, Throwable error) {
    assertTrue(error instanceof EnvelopeException, () -> "expected " + expected + ": " + error);
    assertEquals(expected, ((EnvelopeException) error).reason(), error.getMessage());
  }
}
