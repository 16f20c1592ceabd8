package io.keyrotor.client.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.keyrotor.client.KeyrotorException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * Fuzzes the SDK's envelope parsing and opening (one-shot format 0x01 and stream format 0x02),
 * through both {@link EnvelopeCipher#decrypt} and {@link EnvelopeCipher#decryptingStream}: every
 * input either decrypts to exactly what was sealed (only an unchanged envelope may) or is refused
 * with an {@link EnvelopeException} (or, for a data key the source will not unwrap, a {@link
 * KeyrotorException}) that has a message; nothing else is thrown.
 *
 * <p>The first input byte picks what is decrypted: {@code 0 mod 3}, the rest of the input as the
 * envelope; {@code 1 mod 3}, a fresh one-shot envelope, {@code 2 mod 3}, a fresh stream envelope of
 * four 64-byte segments, each changed by the rest of the input read as edits of three bytes
 * (operation, position, value: flip bits, overwrite, truncate, insert). The envelopes are sealed
 * under a data key source with a random key-encryption key, so the structure-aware modes are what
 * reach authentication; the seeds in
 * src/test/resources/io/keyrotor/client/envelope/EnvelopeFuzzTestInputs cover each mode.
 */
class EnvelopeFuzzTest {
  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme");
  private static final byte[] PLAINTEXT = plaintext();

  private final LocalDataKeys dataKeys = new LocalDataKeys();
  private final EnvelopeCipher cipher = EnvelopeCipher.builder(dataKeys).segmentSize(64).build();

  private static byte[] plaintext() {
    byte[] bytes = new byte[200];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) ('a' + i % 26);
    }
    return bytes;
  }

  @FuzzTest(maxDuration = "10s")
  void decrypt(byte[] input) throws IOException {
    if (input.length == 0) {
      return;
    }
    byte[] original;
    byte[] envelope;
    switch ((input[0] & 0xFF) % 3) {
      case 0 -> {
        original = null;
        envelope = Arrays.copyOfRange(input, 1, input.length);
      }
      case 1 -> {
        original = cipher.encrypt("payments", PLAINTEXT, CONTEXT);
        envelope = edit(original, input);
      }
      default -> {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (EnvelopeOutputStream stream = cipher.encryptingStream(out, "payments", CONTEXT)) {
          stream.write(PLAINTEXT);
        }
        original = out.toByteArray();
        envelope = edit(original, input);
      }
    }
    boolean unchanged = original != null && Arrays.equals(original, envelope);

    byte[] whole = null;
    try {
      whole = cipher.decrypt(envelope, CONTEXT);
    } catch (RuntimeException e) {
      assertRefusal(e);
    }
    byte[] streamed = null;
    try (EnvelopeInputStream in =
        cipher.decryptingStream(new ByteArrayInputStream(envelope), CONTEXT)) {
      streamed = in.readAllBytes();
    } catch (EnvelopeStreamException e) {
      assertRefusal(e.getCause());
    } catch (RuntimeException e) {
      assertRefusal(e);
    }
    if (whole != null || streamed != null) {
      if (!unchanged) {
        fail("a changed or foreign envelope decrypted (" + envelope.length + " bytes)");
      }
      assertArrayEquals(PLAINTEXT, whole, "decrypt returns what was sealed");
      assertArrayEquals(PLAINTEXT, streamed, "the stream returns what was sealed");
    } else if (unchanged) {
      fail("an unchanged envelope did not decrypt");
    }
  }

  /** {@code envelope} after the edits that {@code input} (past its first byte) describes. */
  static byte[] edit(byte[] envelope, byte[] input) {
    byte[] out = envelope.clone();
    for (int i = 1; i + 2 < input.length; i += 3) {
      int operation = input[i] & 0xFF;
      int position = out.length == 0 ? 0 : (input[i + 1] & 0xFF) * 7 % (out.length + 1);
      byte value = input[i + 2];
      switch (operation % 4) {
        case 0 -> {
          if (position < out.length) {
            out[position] ^= value == 0 ? 1 : value;
          }
        }
        case 1 -> {
          if (position < out.length) {
            out[position] = value;
          }
        }
        case 2 -> out = Arrays.copyOf(out, position);
        default -> {
          byte[] longer = new byte[out.length + 1 + (value & 0x0F)];
          System.arraycopy(out, 0, longer, 0, position);
          Arrays.fill(longer, position, position + 1 + (value & 0x0F), value);
          System.arraycopy(
              out, position, longer, position + 1 + (value & 0x0F), out.length - position);
          out = longer;
        }
      }
    }
    return out;
  }

  private static void assertRefusal(Throwable e) {
    if (e instanceof UncheckedIOException) {
      fail("an envelope in memory failed as an I/O error", e);
    }
    if (!(e instanceof KeyrotorException)) {
      assertInstanceOf(EnvelopeException.class, e, () -> "unexpected failure: " + e);
    }
    assertNotNull(e.getMessage(), "a refusal says why");
    assertFalse(e.getMessage().isBlank(), "a refusal says why");
    assertFalse(
        new String(e.getMessage().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)
            .contains(new String(PLAINTEXT, 0, 26, StandardCharsets.US_ASCII)),
        "no plaintext in the message");
  }
}
