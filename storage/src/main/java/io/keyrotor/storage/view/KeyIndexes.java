package io.keyrotor.storage.view;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.storage.AttentionEntry;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * What is derived from the key records and kept in RocksDB beside them, written in the same batch
 * as the record that changes it, so the node never scans its keys to know them: the key count per
 * zone and in total ({@link Schema#KEY_COUNTS}, held in memory too: one number per zone), the keys
 * awaiting validation ({@link Schema#KEYS_AWAITING_VALIDATION}) and when each key may next need the
 * rotation scheduler ({@link Schema#KEY_ATTENTION}). None of it is in the digest: it follows from
 * the digested KEYS family and the command times.
 *
 * <p>A store written before these existed is indexed once, by one pass over its keys, when it is
 * first opened by this build.
 */
final class KeyIndexes {
  private static final byte[] EMPTY = new byte[0];
  private static final byte[] INDEXES_VERSION = StoreKeys.intBytes(1);

  private final ConcurrentHashMap<String, Long> keysPerZone = new ConcurrentHashMap<>();
  private final AtomicLong keyTotal = new AtomicLong();

  /**
   * Reads the counts (one entry per zone); indexes an older store's keys once, at {@code
   * lastCommandTimeMillis}.
   */
  void load(StateDatabase database, KeyReader keys, long lastCommandTimeMillis)
      throws RocksDBException {
    if (database.get(Schema.META, Schema.MetaKey.KEY_INDEXES) == null) {
      build(database, keys, lastCommandTimeMillis);
    }
    byte[] total = database.get(Schema.META, Schema.MetaKey.KEY_TOTAL);
    keyTotal.set(total == null ? 0 : StoreKeys.readLong(total));
    try (RocksIterator it = database.newIterator(Schema.KEY_COUNTS)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        keysPerZone.put(
            new String(it.key(), StandardCharsets.UTF_8), StoreKeys.readLong(it.value()));
      }
      it.status();
    }
  }

  /** Reads a key record from the database, for the one-time indexing of an older store. */
  @FunctionalInterface
  interface KeyReader {
    void forEach(java.util.function.Consumer<KeyRecord> each) throws RocksDBException;
  }

  private void build(StateDatabase database, KeyReader keys, long time) throws RocksDBException {
    try (StateBatch batch = new StateBatch(database, null)) {
      Map<String, Long> zones = new java.util.TreeMap<>();
      long[] total = {0};
      List<RocksDBException> failures = new ArrayList<>();
      keys.forEach(
          key -> {
            zones.merge(key.getZone(), 1L, Long::sum);
            total[0]++;
            try {
              stageDerived(batch, database, null, key, time);
            } catch (RocksDBException e) {
              failures.add(e);
            }
          });
      if (!failures.isEmpty()) {
        throw failures.get(0);
      }
      for (Map.Entry<String, Long> zone : zones.entrySet()) {
        batch.put(
            Schema.KEY_COUNTS, StoreKeys.utf8(zone.getKey()), StoreKeys.longBytes(zone.getValue()));
      }
      batch.put(Schema.META, Schema.MetaKey.KEY_TOTAL, StoreKeys.longBytes(total[0]));
      batch.put(Schema.META, Schema.MetaKey.KEY_INDEXES, INDEXES_VERSION);
      batch.commit();
    }
  }

  /**
   * Puts into {@code batch} what changes when {@code next} replaces {@code previousOrNull} at
   * command time {@code time}.
   */
  void stage(
      StateBatch batch, StateDatabase database, KeyRecord previousOrNull, KeyRecord next, long time)
      throws RocksDBException {
    stageDerived(batch, database, previousOrNull, next, time);
  }

  /** Puts into {@code batch} the counts once the keys {@code created} exist. */
  void stageCounts(StateBatch batch, List<KeyRecord> created) throws RocksDBException {
    if (created.isEmpty()) {
      return;
    }
    Map<String, Long> zones = new java.util.TreeMap<>();
    created.forEach(key -> zones.merge(key.getZone(), 1L, Long::sum));
    for (Map.Entry<String, Long> zone : zones.entrySet()) {
      long count = keysPerZone.getOrDefault(zone.getKey(), 0L) + zone.getValue();
      batch.put(Schema.KEY_COUNTS, StoreKeys.utf8(zone.getKey()), StoreKeys.longBytes(count));
    }
    batch.put(
        Schema.META,
        Schema.MetaKey.KEY_TOTAL,
        StoreKeys.longBytes(keyTotal.get() + created.size()));
  }

  /** Counts the keys {@code created}, once the batch {@link #stageCounts} wrote to is written. */
  void publishCounts(List<KeyRecord> created) {
    for (KeyRecord key : created) {
      keysPerZone.merge(key.getZone(), 1L, Long::sum);
      keyTotal.incrementAndGet();
    }
  }

  private static void stageDerived(
      StateBatch batch, StateDatabase database, KeyRecord previousOrNull, KeyRecord next, long time)
      throws RocksDBException {
    byte[] name = StoreKeys.utf8(next.getName());
    boolean awaited = previousOrNull != null && StateView.awaitsValidation(previousOrNull);
    boolean awaits = StateView.awaitsValidation(next);
    if (awaits && !awaited) {
      batch.put(Schema.KEYS_AWAITING_VALIDATION, name, EMPTY);
    } else if (awaited && !awaits) {
      batch.delete(Schema.KEYS_AWAITING_VALIDATION, name, null);
    }
    byte[] oldTimes =
        previousOrNull == null ? null : database.get(Schema.KEY_ATTENTION_TIMES, name);
    if (oldTimes != null) {
      ByteBuffer times = ByteBuffer.wrap(oldTimes);
      while (times.remaining() >= Long.BYTES) {
        batch.delete(Schema.KEY_ATTENTION, attentionKey(times.getLong(), next.getName()), null);
      }
    }
    NavigableSet<Long> times = attentionTimes(next, time);
    ByteBuffer packed = ByteBuffer.allocate(times.size() * Long.BYTES);
    for (long t : times) {
      batch.put(Schema.KEY_ATTENTION, attentionKey(t, next.getName()), EMPTY);
      packed.putLong(t);
    }
    batch.put(Schema.KEY_ATTENTION_TIMES, name, packed.array());
  }

  /**
   * When {@code key}, written at {@code writeTime}, may next need the scheduler: at {@code
   * writeTime} (the record changed), and at each of its recorded times after it (activations,
   * validation deadlines, destroys, demotions, the next rotation, activation plus decrypt grace):
   * every time-driven decision about a key compares the time with one of these.
   */
  static NavigableSet<Long> attentionTimes(KeyRecord key, long writeTime) {
    NavigableSet<Long> times = new TreeSet<>();
    times.add(writeTime);
    addAfter(times, writeTime, key.getNextRotationTimeUnixMillis());
    addAfter(times, writeTime, key.getPolicy().getNextRotationTimeUnixMillis());
    long grace = key.getPolicy().getDecryptGraceMillis();
    for (KeyVersionRecord v : key.getVersionsList()) {
      addAfter(times, writeTime, v.getActivationTimeUnixMillis());
      addAfter(times, writeTime, v.getValidationDeadlineUnixMillis());
      addAfter(times, writeTime, v.getDestroyTimeUnixMillis());
      addAfter(times, writeTime, v.getDemotedTimeUnixMillis());
      if (grace > 0 && v.getActivationTimeUnixMillis() != 0) {
        addAfter(times, writeTime, v.getActivationTimeUnixMillis() + grace);
      }
    }
    return times;
  }

  private static void addAfter(NavigableSet<Long> times, long writeTime, long time) {
    if (time > writeTime) {
      times.add(time);
    }
  }

  /** The KEY_ATTENTION key of ({@code time}, {@code name}): time first, so the order is by time. */
  static byte[] attentionKey(long time, String name) {
    byte[] utf8 = StoreKeys.utf8(name);
    return ByteBuffer.allocate(Long.BYTES + utf8.length)
        .putLong(time ^ Long.MIN_VALUE) // sign flipped: byte order is numeric order
        .put(utf8)
        .array();
  }

  static AttentionEntry attentionEntry(byte[] key) {
    ByteBuffer buffer = ByteBuffer.wrap(key);
    long time = buffer.getLong() ^ Long.MIN_VALUE;
    return new AttentionEntry(
        time, new String(key, Long.BYTES, key.length - Long.BYTES, StandardCharsets.UTF_8));
  }

  long keyTotal() {
    return keyTotal.get();
  }

  long keyCountInZone(String zone) {
    return keysPerZone.getOrDefault(zone, 0L);
  }

  /** The key count of every zone that holds keys. */
  Map<String, Long> keyCountsByZone() {
    return Map.copyOf(keysPerZone);
  }
}
