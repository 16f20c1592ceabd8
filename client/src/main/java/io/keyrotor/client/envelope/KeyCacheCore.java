package io.keyrotor.client.envelope;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The bounded store behind both caches: entries in insertion order, which is also expiry order
 * because every entry lives for the same {@code maxAge}; expired entries are swept from the head on
 * every access, the oldest entry is evicted when the store is full, and every entry's key bytes are
 * zeroed when it leaves. Its methods lock the store; a caller that combines several holds the lock
 * ({@code synchronized (core)}) around them.
 */
final class KeyCacheCore {

  /** One cached data key with its usage so far. */
  static final class Entry {
    final DataKey dataKey;
    final Instant createdAt;
    long messages;
    long bytes;

    Entry(DataKey dataKey, Instant createdAt) {
      this.dataKey = dataKey;
      this.createdAt = createdAt;
    }
  }

  private final Duration maxAge;
  private final int maxEntries;
  private final Clock clock;
  private final LinkedHashMap<CacheKey, Entry> entries = new LinkedHashMap<>();

  KeyCacheCore(Duration maxAge, int maxEntries, Clock clock) {
    this.maxAge = maxAge;
    this.maxEntries = maxEntries;
    this.clock = clock;
  }

  /** {@code maxAge} if it is greater than zero. */
  static Duration checkMaxAge(Duration maxAge) {
    Objects.requireNonNull(maxAge, "maxAge");
    if (maxAge.isNegative() || maxAge.isZero()) {
      throw new IllegalArgumentException("maxAge must be greater than zero: " + maxAge);
    }
    return maxAge;
  }

  /** {@code maxEntries} if it is at least 1. */
  static int checkMaxEntries(int maxEntries) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be at least 1: " + maxEntries);
    }
    return maxEntries;
  }

  /** {@code maxAge} as the builder has it, required for {@code build()}. */
  static Duration requireMaxAge(Duration maxAge) {
    if (maxAge == null) {
      throw new IllegalArgumentException("maxAge is required");
    }
    return maxAge;
  }

  Instant now() {
    return clock.instant();
  }

  /** The live entry for {@code key}, or null; sweeps expired entries first. */
  synchronized Entry getOrNull(CacheKey key) {
    sweepExpired();
    Entry entry = entries.get(key);
    if (entry != null && isExpired(entry, now())) {
      // Only if the clock stepped back between insertions, breaking expiry order.
      remove(key);
      return null;
    }
    return entry;
  }

  /** Inserts a new entry (replacing and zeroing any old one), evicting the oldest when full. */
  synchronized Entry put(CacheKey key, DataKey dataKey) {
    sweepExpired();
    remove(key);
    Entry added = new Entry(dataKey, now());
    entries.put(key, added);
    Iterator<Entry> oldestFirst = entries.values().iterator();
    while (entries.size() > maxEntries) {
      Entry eldest = oldestFirst.next();
      oldestFirst.remove();
      eldest.dataKey.destroy();
    }
    return added;
  }

  /** Removes and zeroes the entry for {@code key}, if any. */
  synchronized void remove(CacheKey key) {
    Entry old = entries.remove(key);
    if (old != null) {
      old.dataKey.destroy();
    }
  }

  /** Removes and zeroes expired entries; returns how many. */
  synchronized int sweepExpired() {
    Instant now = now();
    int removed = 0;
    Iterator<Entry> oldestFirst = entries.values().iterator();
    while (oldestFirst.hasNext()) {
      Entry entry = oldestFirst.next();
      if (!isExpired(entry, now)) {
        break; // insertion order is expiry order
      }
      oldestFirst.remove();
      entry.dataKey.destroy();
      removed++;
    }
    return removed;
  }

  boolean isExpired(Entry entry, Instant now) {
    return !now.isBefore(entry.createdAt.plus(maxAge));
  }

  /** Removes and zeroes every entry whose data key matches; returns how many. */
  synchronized int removeIf(Predicate<DataKey> matches) {
    int removed = 0;
    Iterator<Map.Entry<CacheKey, Entry>> all = entries.entrySet().iterator();
    while (all.hasNext()) {
      Entry entry = all.next().getValue();
      if (matches.test(entry.dataKey)) {
        all.remove();
        entry.dataKey.destroy();
        removed++;
      }
    }
    return removed;
  }

  synchronized int size() {
    return entries.size();
  }
}
