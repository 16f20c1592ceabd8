package io.keyrotor.client.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.client.testing.ManualClock;
import io.keyrotor.crypto.SecretBytes;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The encrypt-side data-key cache: its limits on a manual clock, eviction, zeroing, threads. */
class DataKeyCacheTest {

  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme");

  private final ManualClock clock = new ManualClock(Instant.parse("2025-03-01T12:00:00Z"));
  private final LocalDataKeys dataKeys = new LocalDataKeys();

  private EnvelopeCipher cipherWith(DataKeyCache cache) {
    return EnvelopeCipher.builder(dataKeys).dataKeyCache(cache).build();
  }

  private DataKeyCache.Builder cache() {
    return DataKeyCache.builder().maxAge(Duration.ofMinutes(5)).clock(clock);
  }

  /** The wrapped data key an envelope carries, as a map key. */
  private static ByteBuffer wrappedOf(byte[] envelope) {
    int length = ((envelope[1] & 0xFF) << 8) | (envelope[2] & 0xFF);
    return ByteBuffer.wrap(Arrays.copyOfRange(envelope, 3, 3 + length));
  }

  private static DataKey key(byte fill) {
    byte[] bytes = new byte[32];
    Arrays.fill(bytes, fill);
    return new DataKey(SecretBytes.takeOwnership(bytes), new byte[] {fill}, "payments", 1);
  }

  private static boolean zeroed(DataKey dataKey) {
    return dataKey.isDestroyed();
  }

  @Test
  void encrypt_manyTimesWithinLimits_generatesOneDataKey() {
    EnvelopeCipher cipher = cipherWith(cache().build());

    byte[] first = cipher.encrypt("payments", new byte[10], CONTEXT);
    for (int i = 0; i < 9; i++) {
      byte[] next = cipher.encrypt("payments", new byte[10], CONTEXT);
      assertEquals(wrappedOf(first), wrappedOf(next));
      assertArrayEquals(new byte[10], cipher.decrypt(next, CONTEXT));
    }

    assertEquals(1, dataKeys.generated.get());
  }

  @Test
  void maxAge_reached_generatesNewDataKey() {
    EnvelopeCipher cipher = cipherWith(cache().maxAge(Duration.ofSeconds(60)).build());

    cipher.encrypt("payments", new byte[1], CONTEXT);
    clock.advance(Duration.ofSeconds(59));
    cipher.encrypt("payments", new byte[1], CONTEXT);
    assertEquals(1, dataKeys.generated.get(), "still within max age");
    clock.advance(Duration.ofSeconds(1));
    cipher.encrypt("payments", new byte[1], CONTEXT);

    assertEquals(2, dataKeys.generated.get(), "60 s after generation the key is too old");
  }

  @Test
  void maxMessagesPerKey_reached_generatesNewDataKey() {
    DataKeyCache cache = cache().maxMessagesPerKey(3).build();
    EnvelopeCipher cipher = cipherWith(cache);

    for (int i = 0; i < 3; i++) {
      cipher.encrypt("payments", new byte[1], CONTEXT);
    }
    assertEquals(1, dataKeys.generated.get());
    assertEquals(0, cache.size(), "a data key that reached its limit leaves the cache at once");
    cipher.encrypt("payments", new byte[1], CONTEXT);

    assertEquals(2, dataKeys.generated.get());
  }

  @Test
  void maxBytesPerKey_wouldBeExceeded_generatesNewDataKey() {
    EnvelopeCipher cipher = cipherWith(cache().maxBytesPerKey(100).build());

    cipher.encrypt("payments", new byte[40], CONTEXT);
    cipher.encrypt("payments", new byte[40], CONTEXT);
    assertEquals(1, dataKeys.generated.get(), "80 of 100 bytes");
    cipher.encrypt("payments", new byte[40], CONTEXT);

    assertEquals(2, dataKeys.generated.get(), "120 > 100 bytes: a new data key");
  }

  @Test
  void messageLargerThanMaxBytes_bypassesTheCache() {
    DataKeyCache cache = cache().maxBytesPerKey(100).build();
    EnvelopeCipher cipher = cipherWith(cache);

    cipher.encrypt("payments", new byte[101], CONTEXT);
    cipher.encrypt("payments", new byte[101], CONTEXT);

    assertEquals(2, dataKeys.generated.get());
    assertEquals(0, cache.size());
  }

  @Test
  void differentContextsOrKeys_neverShareADataKey() {
    DataKeyCache cache = cache().build();
    EnvelopeCipher cipher = cipherWith(cache);

    cipher.encrypt("payments", new byte[1], Map.of("tenant", "a"));
    cipher.encrypt("payments", new byte[1], Map.of("tenant", "b"));
    cipher.encrypt("refunds", new byte[1], Map.of("tenant", "a"));
    cipher.encrypt("payments", new byte[1], Map.of("tenant", "a"));

    assertEquals(3, dataKeys.generated.get());
    assertEquals(3, cache.size());
  }

  @Test
  void maxEntries_exceeded_evictsAndZeroesTheOldest() {
    DataKeyCache cache = cache().maxEntries(2).build();
    DataKey first = key((byte) 1);
    DataKey second = key((byte) 2);
    DataKey third = key((byte) 3);

    cache.offer("payments", new byte[] {1}, first, 0);
    cache.offer("payments", new byte[] {2}, second, 0);
    cache.offer("payments", new byte[] {3}, third, 0);

    assertEquals(2, cache.size());
    assertTrue(zeroed(first));
    assertNull(cache.leaseOrNull("payments", new byte[] {1}, 0));
    assertNotNull(cache.leaseOrNull("payments", new byte[] {3}, 0));
  }

  @Test
  void expiredEntry_isZeroedOnTheNextUseOfTheCache() {
    DataKeyCache cache = cache().maxAge(Duration.ofSeconds(10)).build();
    DataKey expiring = key((byte) 7);
    cache.offer("payments", new byte[] {1}, expiring, 0);

    clock.advance(Duration.ofSeconds(10));
    assertEquals(1, cache.evictExpired());

    assertTrue(zeroed(expiring));
    assertEquals(0, cache.size());
  }

  @Test
  void lease_returnsACopy_soEvictionNeverZeroesAKeyInUse() {
    DataKeyCache cache = cache().build();
    DataKey cached = key((byte) 9);
    cache.offer("payments", new byte[0], cached, 0);

    DataKey leased = cache.leaseOrNull("payments", new byte[0], 1);
    cache.invalidateAll();

    assertTrue(zeroed(cached));
    assertEquals(9, leased.key().revealCopy()[0], "the lease is the caller's own copy");
  }

  @Test
  void invalidate_dropsOnlyThatKeysEntries() {
    DataKeyCache cache = cache().build();
    DataKey payments = key((byte) 1);
    cache.offer("payments", new byte[0], payments, 0);
    cache.offer(
        "refunds",
        new byte[0],
        new DataKey(SecretBytes.copyOf(new byte[32]), new byte[1], "refunds", 1),
        0);

    assertEquals(1, cache.invalidate("payments"));

    assertTrue(zeroed(payments));
    assertEquals(1, cache.size());
  }

  @Test
  void close_zeroesEverything() {
    DataKeyCache cache = cache().build();
    DataKey cached = key((byte) 5);
    cache.offer("payments", new byte[0], cached, 0);

    cache.close();

    assertTrue(zeroed(cached));
    assertEquals(0, cache.size());
  }

  @Test
  void encryptingStream_neverUsesTheCache() throws Exception {
    DataKeyCache cache = cache().build();
    EnvelopeCipher cipher = cipherWith(cache);

    for (int i = 0; i < 2; i++) {
      cipher.encryptingStream(new java.io.ByteArrayOutputStream(), "payments", CONTEXT).close();
    }

    assertEquals(2, dataKeys.generated.get());
    assertEquals(0, cache.size());
  }

  @Test
  void builder_outOfRangeLimits_areRefused() {
    assertThrows(IllegalArgumentException.class, () -> DataKeyCache.builder().build());
    assertThrows(
        IllegalArgumentException.class,
        () -> DataKeyCache.builder().maxMessagesPerKey((1L << 32) + 1));
    assertThrows(IllegalArgumentException.class, () -> DataKeyCache.builder().maxBytesPerKey(0));
    assertThrows(IllegalArgumentException.class, () -> DataKeyCache.builder().maxEntries(0));
    assertThrows(
        IllegalArgumentException.class, () -> DataKeyCache.builder().maxAge(Duration.ZERO));
  }

  @Test
  void concurrentEncrypts_neverUseADataKeyMoreThanMaxMessages() throws Exception {
    int limit = 25;
    EnvelopeCipher cipher = cipherWith(cache().maxMessagesPerKey(limit).build());
    Map<ByteBuffer, AtomicInteger> uses = new ConcurrentHashMap<>();
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            threads.submit(
                () -> {
                  for (int i = 0; i < 250; i++) {
                    byte[] envelope = cipher.encrypt("payments", new byte[8], CONTEXT);
                    uses.computeIfAbsent(wrappedOf(envelope), w -> new AtomicInteger())
                        .incrementAndGet();
                  }
                }));
      }
      for (Future<?> future : done) {
        future.get();
      }
    } finally {
      threads.shutdownNow();
    }

    int total = uses.values().stream().mapToInt(AtomicInteger::get).sum();
    assertEquals(1000, total);
    for (AtomicInteger count : uses.values()) {
      assertTrue(count.get() <= limit, "a data key sealed " + count.get() + " envelopes");
    }
    assertTrue(uses.size() >= 1000 / limit, "at least 40 data keys for 1000 envelopes");
  }
}
