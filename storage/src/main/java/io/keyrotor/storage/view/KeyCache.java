package io.keyrotor.storage.view;

import io.keyrotor.proto.internal.v1.KeyRecord;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A bounded, least-recently-used cache of key records over the KEYS column family, so a node keeps
 * the keys in use in its heap and not every key. Its bound is an estimate of heap bytes ({@link
 * #weight}), split over {@value #SEGMENTS} segments, each with its own lock.
 *
 * <p>It never holds a record older than the committed one: the apply thread {@link #publish
 * publishes} each record after its batch is written, and a reader that missed loads the committed
 * record and keeps it only if no record of its segment was published since it started to load (a
 * counter per segment, compared under the segment's lock). A reader that races with apply returns
 * what it read (committed data) without caching it.
 */
public final class KeyCache {
  /** The default bound: 64 MiB of estimated heap. */
  public static final long DEFAULT_BYTES = 64L << 20;

  /** Estimated heap bytes per cached entry beyond the record (map entry, links, the name). */
  static final int ENTRY_OVERHEAD = 160;

  /**
   * A parsed record takes several times its encoded size on the heap (objects per version, byte
   * strings, lists): the estimate multiplies by this.
   */
  static final int HEAP_PER_ENCODED_BYTE = 4;

  private static final int SEGMENTS = 16;

  private final Segment[] segments = new Segment[SEGMENTS];
  private final long capacityBytes;

  /**
   * @param capacityBytes the most estimated heap bytes to hold (at least one record per segment is
   *     kept however large)
   */
  public KeyCache(long capacityBytes) {
    if (capacityBytes < 0) {
      throw new IllegalArgumentException("a key cache bound is at least 0 bytes");
    }
    this.capacityBytes = capacityBytes;
    for (int i = 0; i < SEGMENTS; i++) {
      segments[i] = new Segment(capacityBytes / SEGMENTS);
    }
  }

  /**
   * The cached record of {@code name}, or the one {@code load} reads from the committed data (kept
   * if nothing of its segment was published meanwhile); empty if there is none.
   */
  public Optional<KeyRecord> get(String name, Function<String, Optional<KeyRecord>> load) {
    Segment segment = segmentOf(name);
    long seen;
    synchronized (segment) {
      KeyRecord cached = segment.entries.get(name);
      if (cached != null) {
        segment.hits++;
        return Optional.of(cached);
      }
      segment.misses++;
      seen = segment.published;
    }
    Optional<KeyRecord> loaded = load.apply(name);
    if (loaded.isPresent()) {
      synchronized (segment) {
        if (segment.published == seen && !segment.entries.containsKey(name)) {
          segment.insert(name, loaded.get());
        }
      }
    }
    return loaded;
  }

  /**
   * Makes {@code record} the cached record of its key: called by the apply thread once the batch
   * that holds it is written.
   */
  public void publish(KeyRecord record) {
    Segment segment = segmentOf(record.getName());
    synchronized (segment) {
      segment.published++;
      segment.insert(record.getName(), record);
    }
  }

  /** How many records are cached. */
  public long size() {
    long total = 0;
    for (Segment segment : segments) {
      synchronized (segment) {
        total += segment.entries.size();
      }
    }
    return total;
  }

  /** The estimated heap bytes the cached records take (at most {@link #capacityBytes()}). */
  public long weightBytes() {
    long total = 0;
    for (Segment segment : segments) {
      synchronized (segment) {
        total += segment.weight;
      }
    }
    return total;
  }

  /** The bound given at creation. */
  public long capacityBytes() {
    return capacityBytes;
  }

  /** Reads answered from the cache and from the database, since creation. */
  public Stats stats() {
    long hits = 0;
    long misses = 0;
    for (Segment segment : segments) {
      synchronized (segment) {
        hits += segment.hits;
        misses += segment.misses;
      }
    }
    return new Stats(hits, misses);
  }

  /** Reads answered from the cache ({@code hits}) and from the database ({@code misses}). */
  public record Stats(long hits, long misses) {}

  /** The estimated heap bytes of {@code record} cached under {@code name}. */
  static long weight(String name, KeyRecord record) {
    return ENTRY_OVERHEAD
        + 2L * name.length()
        + (long) HEAP_PER_ENCODED_BYTE * record.getSerializedSize();
  }

  private Segment segmentOf(String name) {
    return segments[Math.floorMod(name.hashCode(), SEGMENTS)];
  }

  /** One lock's share of the cache: an access-ordered map and its weight. */
  private static final class Segment {
    private final long capacity;
    private final LinkedHashMap<String, KeyRecord> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long weight;
    private long published;
    private long hits;
    private long misses;

    Segment(long capacity) {
      this.capacity = capacity;
    }

    void insert(String name, KeyRecord record) {
      KeyRecord previous = entries.put(name, record);
      if (previous != null) {
        weight -= weight(name, previous);
      }
      weight += weight(name, record);
      var eldest = entries.entrySet().iterator();
      while (weight > capacity && entries.size() > 1 && eldest.hasNext()) {
        Map.Entry<String, KeyRecord> entry = eldest.next();
        if (entry.getKey().equals(name)) {
          continue;
        }
        weight -= weight(entry.getKey(), entry.getValue());
        eldest.remove();
      }
      if (capacity == 0) {
        entries.clear();
        weight = 0;
      }
    }
  }
}
