package io.keyrotor.server.dataplane;

import static io.keyrotor.server.testing.Answers.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.server.testing.ManualClock;
import io.keyrotor.server.testing.TestHsm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the data plane's opening of ciphertexts (parse, key resolution, {@link Envelopes}' AES-GCM
 * open and re-seal) with a real software HSM and KEK cache: Decrypt and ReEncrypt of any bytes
 * either return exactly what was sealed (only an unchanged ciphertext under its own context may) or
 * fail with a {@link DataPlaneException} carrying a catalogue reason other than INTERNAL and a
 * message; nothing else is thrown.
 *
 * <p>The first input byte picks the ciphertext: even, the rest of the input as it is; odd, a fresh
 * Encrypt under key "orders" changed by the rest read as three-byte edits (operation, position,
 * value). The second decides the call (Decrypt, or ReEncrypt to "orders", to a missing key or to a
 * key of a zone this node does not hold) and the context. Seeds are in
 * src/test/resources/io/keyrotor/server/dataplane/EnvelopesFuzzTestInputs.
 */
class EnvelopesFuzzTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme");
  private static final String SECRET = "a secret worth keeping";
  private static final byte[] PLAINTEXT = SECRET.getBytes(StandardCharsets.US_ASCII);

  private static Path directory;
  private static TestHsm hsm;
  private static KekCache cache;
  private static ExecutorService slowPath;
  private static DataPlane dataPlane;

  @BeforeAll
  static void start() throws Exception {
    directory = Files.createTempDirectory("keyrotor-envelopes-fuzz");
    hsm = TestHsm.create(directory, "default", "eu");
    TestKeys keys = new TestKeys(hsm);
    keys.create("orders", "default", T0 - 1000);
    keys.rotate("orders", T0 - 500);
    keys.create("held-elsewhere", "eu", T0 - 1000);
    cache = new KekCache(hsm, 100, Duration.ofMinutes(5));
    slowPath = Executors.newSingleThreadExecutor();
    dataPlane =
        new DataPlane(
            key -> CompletableFuture.completedFuture(null),
            keys,
            Set.of("default"),
            cache,
            new ManualClock(T0),
            slowPath);
  }

  @AfterAll
  static void stop() throws Exception {
    slowPath.shutdownNow();
    cache.close();
    hsm.close();
    try (var files = Files.walk(directory)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @FuzzTest(maxDuration = "10s")
  void decryptAndReEncrypt(byte[] input) throws Exception {
    if (input.length < 2) {
      return;
    }
    byte[] original = null;
    byte[] ciphertext;
    if ((input[0] & 1) == 0) {
      ciphertext = Arrays.copyOfRange(input, 2, input.length);
    } else {
      original = await(dataPlane.encryptAsync("orders", PLAINTEXT, CONTEXT)).ciphertext();
      ciphertext = edit(original, input);
    }
    int call = input[1] & 0x03;
    Map<String, String> context = (input[1] & 0x04) == 0 ? CONTEXT : Map.of();
    boolean mayOpen = original != null && Arrays.equals(original, ciphertext) && context == CONTEXT;

    CompletableFuture<?> future =
        switch (call) {
          case 0 -> dataPlane.decryptAsync(ciphertext, context);
          case 1 -> reEncrypt(ciphertext, context, "orders");
          case 2 -> reEncrypt(ciphertext, context, "missing-key");
          default -> reEncrypt(ciphertext, context, "held-elsewhere");
        };
    Object result;
    try {
      result = await(future);
    } catch (DataPlaneException e) {
      assertNotNull(e.reason(), "a reason");
      assertNotEquals(ErrorReason.INTERNAL, e.reason(), e.getMessage());
      assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "a message");
      assertFalse(e.getMessage().contains("secret worth"), "no plaintext in the message");
      if (mayOpen && call <= 1) {
        fail("an unchanged ciphertext was refused: " + e.getMessage());
      }
      return;
    }
    if (!mayOpen) {
      fail("a changed ciphertext, or one under another context, opened: " + result);
    }
    if (result instanceof DataPlane.Decrypted decrypted) {
      assertArrayEquals(PLAINTEXT, decrypted.plaintext());
    } else {
      DataPlane.ReEncrypted reEncrypted = assertInstanceOf(DataPlane.ReEncrypted.class, result);
      assertArrayEquals(
          PLAINTEXT, await(dataPlane.decryptAsync(reEncrypted.ciphertext(), context)).plaintext());
    }
  }

  private static CompletableFuture<DataPlane.ReEncrypted> reEncrypt(
      byte[] ciphertext, Map<String, String> context, String destination) {
    return dataPlane.reEncryptAsync(
        new DataPlane.ReEncryption(ciphertext, context, destination, null));
  }

  /** {@code blob} after the three-byte edits in {@code input} past its first two bytes. */
  static byte[] edit(byte[] blob, byte[] input) {
    byte[] out = blob.clone();
    for (int i = 2; i + 2 < input.length; i += 3) {
      int position = out.length == 0 ? 0 : (input[i + 1] & 0xFF) % (out.length + 1);
      byte value = input[i + 2];
      switch (input[i] & 0x03) {
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
          byte[] longer = new byte[out.length + 1];
          System.arraycopy(out, 0, longer, 0, position);
          longer[position] = value;
          System.arraycopy(out, position, longer, position + 1, out.length - position);
          out = longer;
        }
      }
    }
    return out;
  }
}
