package io.keyrotor.client.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.keyrotor.client.KeyrotorException;
import io.keyrotor.client.testing.ManualClock;
import io.keyrotor.crypto.SecretBytes;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The decrypt-side cache of unwrapped data keys. */
class DecryptionKeyCacheTest {

  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme");

  private final ManualClock clock = new ManualClock(Instant.parse("2025-03-01T12:00:00Z"));
  private final LocalDataKeys dataKeys = new LocalDataKeys();
  private final DecryptionKeyCache cache =
      DecryptionKeyCache.builder()
          .maxAge(Duration.ofMinutes(1))
          .maxEntries(10)
          .clock(clock)
          .build();
  private final EnvelopeCipher cipher =
      EnvelopeCipher.builder(dataKeys)
          .dataKeyCache(DataKeyCache.builder().maxAge(Duration.ofHours(1)).clock(clock).build())
          .decryptionKeyCache(cache)
          .build();

  @Test
  void decrypt_manyEnvelopesOfOneDataKey_unwrapsOnce() {
    byte[][] envelopes = new byte[5][];
    for (int i = 0; i < envelopes.length; i++) {
      envelopes[i] = cipher.encrypt("payments", new byte[] {(byte) i}, CONTEXT);
    }

    for (int i = 0; i < envelopes.length; i++) {
      assertArrayEquals(new byte[] {(byte) i}, cipher.decrypt(envelopes[i], CONTEXT));
    }

    assertEquals(1, dataKeys.unwrapped.get());
  }

  @Test
  void decrypt_wrongContext_missesTheCacheAndTheServerRefuses() {
    byte[] envelope = cipher.encrypt("payments", new byte[1], CONTEXT);
    cipher.decrypt(envelope, CONTEXT);

    assertThrows(
        KeyrotorException.class, () -> cipher.decrypt(envelope, Map.of("tenant", "other")));

    assertEquals(2, dataKeys.unwrapped.get());
  }

  @Test
  void decrypt_afterMaxAge_unwrapsAgain() {
    byte[] envelope = cipher.encrypt("payments", new byte[1], CONTEXT);
    cipher.decrypt(envelope, CONTEXT);

    clock.advance(Duration.ofMinutes(1));
    cipher.decrypt(envelope, CONTEXT);

    assertEquals(2, dataKeys.unwrapped.get());
  }

  @Test
  void invalidateKey_dropsAndZeroesItsEntries() {
    byte[] envelope = cipher.encrypt("payments", new byte[1], CONTEXT);
    cipher.decrypt(envelope, CONTEXT);
    assertEquals(1, cache.size());

    assertEquals(1, cache.invalidate("payments", 1));
    cipher.decrypt(envelope, CONTEXT);

    assertEquals(2, dataKeys.unwrapped.get());
  }

  @Test
  void streams_useTheDecryptionCacheToo() throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (EnvelopeOutputStream stream = cipher.encryptingStream(out, "payments", CONTEXT)) {
      stream.write(new byte[100]);
    }

    cipher.decrypt(out.toByteArray(), CONTEXT);
    cipher.decrypt(out.toByteArray(), CONTEXT);

    assertEquals(1, dataKeys.unwrapped.get());
  }

  @Test
  void closeOrExpiry_zeroesTheCachedKeyBytes() {
    byte[] first = new byte[32];
    byte[] second = new byte[32];
    java.util.Arrays.fill(first, (byte) 1);
    java.util.Arrays.fill(second, (byte) 2);
    cache.offer(
        new byte[0], new DataKey(SecretBytes.takeOwnership(first), new byte[] {1}, "payments", 1));
    clock.advance(Duration.ofSeconds(30));
    cache.offer(
        new byte[0], new DataKey(SecretBytes.takeOwnership(second), new byte[] {2}, "payments", 1));

    clock.advance(Duration.ofSeconds(30));
    assertEquals(1, cache.evictExpired());
    assertArrayEquals(new byte[32], first);
    cache.close();

    assertArrayEquals(new byte[32], second);
    assertEquals(0, cache.size());
  }
}
