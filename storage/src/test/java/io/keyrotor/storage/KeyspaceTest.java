package io.keyrotor.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.storage.view.KeyCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The keyspace kept in RocksDB, not in the heap: a bounded key cache, paged whole-keyspace reads,
 * counts and indexes kept with each batch, an open that reads no key record.
 */
class KeyspaceTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final int KEYS = 3_000;

  /** A bound far below what 3,000 records take (each is estimated at well over 400 bytes). */
  private static final long CACHE_BYTES = 64 * 1024;

  @TempDir Path dir;

  private static String name(int i) {
    return String.format("key-%05d", i);
  }

  private static void createKeys(KeyStateStore store, int count) {
    for (int i = 0; i < count; i++) {
      store.apply(Commands.create("c-" + i, T0 + i, name(i)), 1, i + 1);
    }
  }

  @Test
  void manyMoreKeysThanTheCacheHolds_cacheStaysWithinItsBound_everyKeyReadsBack() {
    try (KeyStateStore store = KeyStateStore.open(dir, CACHE_BYTES)) {
      createKeys(store, KEYS);
      KeyCache cache = store.keyCache();
      assertTrue(cache.weightBytes() <= CACHE_BYTES, "cache at " + cache.weightBytes());
      assertTrue(cache.size() < KEYS / 4, "cached " + cache.size() + " of " + KEYS);

      for (int i = 0; i < KEYS; i++) {
        KeyRecord key = store.key(name(i)).orElseThrow(() -> new AssertionError("missing key"));
        assertEquals(name(i), key.getName());
        assertEquals(1, key.getVersionsCount());
        assertTrue(cache.weightBytes() <= CACHE_BYTES, "cache at " + cache.weightBytes());
      }
      assertTrue(cache.stats().misses() > 0, "most reads went to RocksDB");
      assertEquals(KEYS, store.keyCount());
      assertEquals(KEYS, store.keyCountInZone("default"));
      assertEquals(Map.of("default", (long) KEYS), store.keyCountsByZone());
    }
  }

  @Test
  void wholeKeyspaceReads_pageInNameOrder_fromAnyStart() {
    try (KeyStateStore store = KeyStateStore.open(dir, CACHE_BYTES)) {
      createKeys(store, 1_000);
      List<String> names = new ArrayList<>();
      store.allKeys().forEach(key -> names.add(key.getName()));
      assertEquals(1_000, names.size());
      for (int i = 0; i < names.size(); i++) {
        assertEquals(name(i), names.get(i));
      }
      List<KeyRecord> page = store.keysAfter(name(499), 3);
      assertEquals(
          List.of(name(500), name(501), name(502)), page.stream().map(KeyRecord::getName).toList());
      int after = 0;
      for (KeyRecord ignored : store.keysFrom(name(899))) {
        after++;
      }
      assertEquals(100, after);
    }
  }

  @Test
  void attentionIndex_holdsTheWriteAndEachLaterRecordedTime_andTheSchedulerReadsOnlyWhatIsDue() {
    long activation = T0 + 60_000;
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      store.apply(Commands.create("c-late", T0, "late", activation), 1, 1);
      store.apply(Commands.create("c-now", T0 + 1, "now"), 1, 2);

      assertEquals(
          List.of(new AttentionEntry(T0, "late"), new AttentionEntry(T0 + 1, "now")),
          store.keysNeedingAttention(AttentionEntry.START, T0 + 10_000, 100),
          "before the activation only the writes are due");
      assertEquals(
          List.of(new AttentionEntry(activation, "late")),
          store.keysNeedingAttention(new AttentionEntry(T0 + 1, "now"), Long.MAX_VALUE, 100),
          "the activation time is indexed");

      // A new record replaces the key's entries: the old write's entry goes, the new write's
      // comes, and the times the record still holds stay.
      store.apply(
          Commands.rotate(
              "r-late", T0 + 2, "late", T0 + 2, RotationReason.ROTATION_REASON_COMPROMISE),
          1,
          3);
      assertEquals(
          List.of(
              new AttentionEntry(T0 + 1, "now"),
              new AttentionEntry(T0 + 2, "late"),
              new AttentionEntry(activation, "late")),
          store.keysNeedingAttention(AttentionEntry.START, Long.MAX_VALUE, 100));
    }
  }

  @Test
  void keysAwaitingValidation_andCounts_comeFromTheStore_notFromAScanAtOpen() {
    try (KeyStateStore store = KeyStateStore.open(dir, CACHE_BYTES)) {
      createKeys(store, 500);
    }
    try (KeyStateStore reopened = KeyStateStore.open(dir, CACHE_BYTES)) {
      assertEquals(0, reopened.keyCache().size(), "opening reads no key record");
      assertEquals(0, reopened.keyCache().stats().misses());
      assertEquals(500, reopened.keyCount());
      assertEquals(500, reopened.keyCountInZone("default"));
      assertEquals(
          500, reopened.keysNeedingAttention(AttentionEntry.START, Long.MAX_VALUE, 1_000).size());
      assertTrue(reopened.key(name(42)).isPresent());
      assertFalse(reopened.key("never-created").isPresent());
      // A key created after the restart counts from the stored counts.
      reopened.apply(Commands.create("c-more", T0 + 10_000, "more"), 1, 501);
      assertEquals(501, reopened.keyCount());
    }
  }

  @Test
  void restart_sameStateAsBefore_andItsIntegrityCheckVerifies() throws Exception {
    String digest;
    List<KeyRecord> before = new ArrayList<>();
    try (KeyStateStore store = KeyStateStore.open(dir, CACHE_BYTES)) {
      createKeys(store, 700);
      digest = store.digest();
      store.allKeys().forEach(before::add);
    }
    try (KeyStateStore reopened = KeyStateStore.open(dir, CACHE_BYTES)) {
      assertEquals(digest, reopened.digest());
      List<KeyRecord> after = new ArrayList<>();
      reopened.allKeys().forEach(after::add);
      assertEquals(before, after);
      assertEquals(IntegrityStatus.State.VERIFIED, reopened.awaitIntegrityCheck(120_000).state());
    }
  }
}
