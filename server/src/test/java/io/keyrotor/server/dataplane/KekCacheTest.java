package io.keyrotor.server.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.base.Ticker;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.rotation.KekIssuer;
import io.keyrotor.server.testing.TestHsm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KEK cache: bounded, zeroed on every way out, dropped on disable, one unwrap per miss. */
class KekCacheTest {
  private static final long ALWAYS = 0;

  @TempDir Path directory;
  private TestHsm hsm;
  private TestKeys keys;
  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker =
      new Ticker() {
        @Override
        public long read() {
          return nanos.get();
        }
      };

  @BeforeEach
  void setUp() throws Exception {
    hsm = TestHsm.create(directory, "default");
    keys = new TestKeys(hsm);
  }

  @AfterEach
  void tearDown() {
    hsm.close();
  }

  private KekCache cache(long maxEntries) {
    return new KekCache(hsm, maxEntries, Duration.ofMinutes(10), ticker);
  }

  private Kek load(KekCache cache, String name, int version) throws DataPlaneException {
    KeyRecord key = keys.get(name);
    return cache.get(
        new KekCache.Id(key.getZone(), name, version),
        key.getVersions(version - 1).getKek(),
        id -> true);
  }

  private void createKeys(String... names) throws Exception {
    for (String name : names) {
      keys.create(name, "default", ALWAYS);
    }
  }

  /** Loads a version into {@code cache}; the key bytes the HSM handed out for it. */
  private SecretKeyBytes loaded(KekCache cache, String name, int version) throws Exception {
    load(cache, name, version);
    return lastHandedOut();
  }

  /**
   * Tells the cache's apply listener that {@code command} applied at {@code index}, leaving "a".
   */
  private void applied(KekCache cache, Command command, long index) {
    CommandResult result = CommandResult.newBuilder().setKey(keys.get("a")).build();
    cache.applyListener().applied(command, result, index, 0);
  }

  private SecretKeyBytes lastHandedOut() {
    return hsm.handedOut.get(hsm.handedOut.size() - 1);
  }

  @Test
  void kekMovedToAnotherVersion_refusedWithKekCheckFailed_countedAndNotCached() throws Exception {
    KekIssuer issuer = new KekIssuer(hsm);
    WrappedKeyMaterial one = issuer.newWrappedKek("default", "moved", 1);
    WrappedKeyMaterial two = issuer.newWrappedKek("default", "moved", 2);
    try (KekCache cache = cache(10)) {
      // Each version's own material loads; version 2's material read as version 1's does not.
      assertNotNull(cache.get(new KekCache.Id("default", "moved", 2), two, id -> true));
      DataPlaneException refused =
          assertThrows(
              DataPlaneException.class,
              () -> cache.get(new KekCache.Id("default", "moved", 1), two, id -> true));
      assertEquals(ErrorReason.KEK_CHECK_FAILED, refused.reason());
      assertEquals(1, cache.checkFailures());
      assertNull(cache.getIfPresent(new KekCache.Id("default", "moved", 1)));
      assertNotNull(cache.get(new KekCache.Id("default", "moved", 1), one, id -> true));
    }
  }

  @Test
  void sizeEviction_zeroesTheEvictedKey() throws Exception {
    createKeys("a", "b");
    KekCache cache = cache(1);

    Kek a = load(cache, "a", 1);
    SecretKeyBytes aBytes = lastHandedOut();
    assertFalse(aBytes.isDestroyed());
    load(cache, "b", 1);
    cache.cleanUp();

    assertTrue(aBytes.isDestroyed(), "evicted key zeroed");
    assertTrue(a.isDestroyed());
    assertThrows(
        IllegalStateException.class,
        () -> AesGcm.seal(a, "a", 1, new byte[12], new byte[4], new byte[1], 0, 1),
        "an evicted key seals nothing");
    assertEquals(1, cache.size());
  }

  @Test
  void idleExpiry_zeroesTheKey() throws Exception {
    createKeys("a");
    KekCache cache = cache(10);
    SecretKeyBytes bytes = loaded(cache, "a", 1);

    nanos.addAndGet(Duration.ofMinutes(11).toNanos());
    cache.cleanUp();

    assertTrue(bytes.isDestroyed());
    assertEquals(0, cache.size());
  }

  @Test
  void disableApplied_dropsAndZeroesThatVersionOnly() throws Exception {
    createKeys("a");
    keys.rotate("a", ALWAYS);
    KekCache cache = cache(10);
    SecretKeyBytes v1 = loaded(cache, "a", 1);
    SecretKeyBytes v2 = loaded(cache, "a", 2);

    keys.setStatus("a", 1, VersionStatus.VERSION_STATUS_DISABLED);
    applied(
        cache,
        Command.newBuilder()
            .setSetVersionStatus(
                SetVersionStatus.newBuilder()
                    .setName("a")
                    .setVersion(1)
                    .setStatus(VersionStatus.VERSION_STATUS_DISABLED))
            .build(),
        7);

    assertTrue(v1.isDestroyed(), "disabled version zeroed");
    assertNull(cache.getIfPresent(new KekCache.Id("default", "a", 1)));
    assertFalse(v2.isDestroyed());
    assertNotNull(cache.getIfPresent(new KekCache.Id("default", "a", 2)));
  }

  @Test
  void versionsBelowMinDecryption_droppedToo() throws Exception {
    createKeys("a");
    keys.rotate("a", ALWAYS);
    KekCache cache = cache(10);
    SecretKeyBytes v1 = loaded(cache, "a", 1);

    keys.update("a", k -> k.toBuilder().setMinDecryptionVersion(2).build());
    applied(cache, Command.getDefaultInstance(), 8);

    assertTrue(v1.isDestroyed());
  }

  @Test
  void loadThatRacedADisable_dropsItsOwnResult() throws Exception {
    createKeys("a");
    KekCache cache = cache(10);
    KeyRecord key = keys.get("a");

    Kek kek =
        cache.get(new KekCache.Id("default", "a", 1), key.getVersions(0).getKek(), id -> false);

    assertTrue(kek.isDestroyed());
    assertTrue(lastHandedOut().isDestroyed());
    assertEquals(0, cache.size());
  }

  @Test
  void retainUsable_sweepsWhatTheStateNoLongerAllows() throws Exception {
    createKeys("a", "b");
    KekCache cache = cache(10);
    SecretKeyBytes a = loaded(cache, "a", 1);
    SecretKeyBytes b = loaded(cache, "b", 1);

    cache.retainUsable(id -> id.keyName().equals("b"));

    assertTrue(a.isDestroyed());
    assertFalse(b.isDestroyed());
  }

  @Test
  void close_zeroesEverything() throws Exception {
    createKeys("a", "b");
    KekCache cache = cache(10);
    load(cache, "a", 1);
    load(cache, "b", 1);

    cache.close();

    assertEquals(2, hsm.handedOut.size());
    hsm.handedOut.forEach(k -> assertTrue(k.isDestroyed()));
  }

  @Test
  void concurrentMisses_oneUnwrap() throws Exception {
    createKeys("a");
    KekCache cache = cache(10);
    hsm.holdUnwraps = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      List<Future<Kek>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(threads.submit(() -> load(cache, "a", 1)));
      }
      // Wait until the first unwrap is under way, then let it finish.
      LocalWait.until(() -> hsm.unwraps.get() == 1, "the first unwrap to start");
      hsm.holdUnwraps.countDown();
      Kek first = results.get(0).get(30, TimeUnit.SECONDS);
      for (Future<Kek> result : results) {
        assertSame(first, result.get(30, TimeUnit.SECONDS));
      }
      assertEquals(1, hsm.unwraps.get(), "one unwrap for eight concurrent misses");
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void hsmUnavailable_missFailsButCachedKeysStay() throws Exception {
    createKeys("a", "b");
    KekCache cache = cache(10);
    Kek a = load(cache, "a", 1);

    hsm.available = false;

    assertSame(a, load(cache, "a", 1));
    DataPlaneException e = assertThrows(DataPlaneException.class, () -> load(cache, "b", 1));
    assertEquals(ErrorReason.HSM_UNAVAILABLE, e.reason());
    assertEquals(1, cache.unwrapFailures());
  }

  @Test
  void tamperedStoredKek_unwrapFailed() throws Exception {
    createKeys("a");
    KeyRecord key = keys.get("a");
    var kek = key.getVersions(0).getKek();
    byte[] bytes = kek.getCiphertext().toByteArray();
    bytes[3] ^= 1;
    var tampered =
        kek.toBuilder().setCiphertext(com.google.protobuf.ByteString.copyFrom(bytes)).build();
    KekCache cache = cache(10);

    DataPlaneException e =
        assertThrows(
            DataPlaneException.class,
            () -> cache.get(new KekCache.Id("default", "a", 1), tampered, id -> true));

    assertEquals(ErrorReason.UNWRAP_FAILED, e.reason());
    assertEquals(0, cache.size());
  }

  @Test
  void kek_printsNoBytes() throws Exception {
    createKeys("a");
    Kek kek = load(cache(10), "a", 1);
    assertEquals("Kek[32 bytes]", kek.toString());
  }
}
