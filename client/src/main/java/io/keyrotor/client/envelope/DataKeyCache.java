package io.keyrotor.client.envelope;

import java.time.Duration;
import java.util.Objects;

/**
 * Reuses data keys across envelopes, for services that encrypt at high rates, with the limits of
 * the AWS Encryption SDK's caching: a data key is used for at most {@code maxAge}, {@code
 * maxMessagesPerKey} envelopes and {@code maxBytesPerKey} plaintext bytes, and the cache holds at
 * most {@code maxEntries} data keys. Entries are keyed by (key name, encryption context): an
 * envelope never reuses a data key generated for another context.
 *
 * <p>Off unless given to {@link EnvelopeCipher.Builder#dataKeyCache(DataKeyCache)}. Reuse trades
 * isolation for speed: every envelope sealed with one cached data key is exposed if that data key
 * is, and envelopes keep the wrapping key version that was primary when the data key was made (a
 * rotation takes effect for new envelopes once the entry expires, at most {@code maxAge} later).
 * One-shot envelopes count their plaintext size; streams never use the cache (their size is unknown
 * up front), as in the AWS SDK.
 *
 * <p>Thread-safe: one lock guards the entries, held only for a lookup, a counter update and a
 * 32-byte copy. Callers get their own copy of a data key, so an entry can be evicted and zeroed
 * while an envelope that used it is still being sealed. Expired entries are swept (and zeroed) on
 * every use; call {@link #evictExpired()} from a scheduler to bound how long an idle cache keeps
 * key bytes, and {@link #close()} to zero everything.
 */
public final class DataKeyCache implements AutoCloseable {

  /** The highest {@code maxMessagesPerKey}: AES-GCM with random nonces, 2^32 per key (NIST). */
  public static final long MAX_MESSAGES_PER_KEY_LIMIT = 1L << 32;

  private final KeyCacheCore core;
  private final long maxMessagesPerKey;
  private final long maxBytesPerKey;

  private DataKeyCache(Builder builder) {
    this.core = new KeyCacheCore(builder.maxAge, builder.maxEntries, builder.clock);
    this.maxMessagesPerKey = builder.maxMessagesPerKey;
    this.maxBytesPerKey = builder.maxBytesPerKey;
  }

  /** A builder; {@link Builder#maxAge(Duration)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A copy of a cached data key for one envelope of {@code plaintextBytes}, counted against the
   * entry's limits, or null on a miss. An entry that this envelope would take past a limit is
   * evicted (and zeroed) and counts as a miss; an entry that reaches a limit exactly is evicted
   * after this use.
   */
  DataKey leaseOrNull(String keyName, byte[] contextEncoding, long plaintextBytes) {
    if (plaintextBytes > maxBytesPerKey) {
      return null;
    }
    CacheKey key = new CacheKey(keyName, contextEncoding, new byte[0]);
    synchronized (core) {
      KeyCacheCore.Entry entry = core.getOrNull(key);
      if (entry == null) {
        return null;
      }
      if (entry.messages + 1 > maxMessagesPerKey || entry.bytes + plaintextBytes > maxBytesPerKey) {
        core.remove(key);
        return null;
      }
      entry.messages++;
      entry.bytes += plaintextBytes;
      DataKey copy = entry.dataKey.copy();
      if (entry.messages == maxMessagesPerKey || entry.bytes == maxBytesPerKey) {
        core.remove(key);
      }
      return copy;
    }
  }

  /**
   * Caches a data key that was just generated and used for one envelope of {@code plaintextBytes};
   * takes ownership of {@code dataKey} (zeroed when it leaves the cache, or at once if it is not
   * kept).
   */
  void offer(String keyName, byte[] contextEncoding, DataKey dataKey, long plaintextBytes) {
    if (maxMessagesPerKey <= 1 || plaintextBytes >= maxBytesPerKey) {
      dataKey.destroy(); // already used up
      return;
    }
    CacheKey key = new CacheKey(keyName, contextEncoding, new byte[0]);
    synchronized (core) {
      KeyCacheCore.Entry entry = core.put(key, dataKey);
      entry.messages = 1;
      entry.bytes = plaintextBytes;
    }
  }

  /** The number of data keys held. */
  public int size() {
    return core.size();
  }

  /** Zeroes and drops every data key of {@code keyName} (for example after a rotation). */
  public int invalidate(String keyName) {
    Objects.requireNonNull(keyName, "keyName");
    return core.removeIf(dataKey -> dataKey.keyName().equals(keyName));
  }

  /** Zeroes and drops every data key. */
  public void invalidateAll() {
    core.removeIf(dataKey -> true);
  }

  /** Zeroes and drops expired data keys now; returns how many. */
  public int evictExpired() {
    return core.sweepExpired();
  }

  /** Same as {@link #invalidateAll()}. */
  @Override
  public void close() {
    invalidateAll();
  }

  /** Limits of a {@link DataKeyCache}. */
  public static final class Builder extends KeyCacheBuilder<Builder, DataKeyCache> {
    private long maxMessagesPerKey = MAX_MESSAGES_PER_KEY_LIMIT;
    private long maxBytesPerKey = Long.MAX_VALUE;

    private Builder() {
      super(100, DataKeyCache::new);
    }

    /** How long a data key may be used after it was generated. Required. */
    public Builder maxAge(Duration maxAge) {
      this.maxAge = KeyCacheCore.checkMaxAge(maxAge);
      return this;
    }

    /** Envelopes per data key, 1..2^32 (default 2^32). */
    public Builder maxMessagesPerKey(long maxMessagesPerKey) {
      if (maxMessagesPerKey < 1 || maxMessagesPerKey > MAX_MESSAGES_PER_KEY_LIMIT) {
        throw new IllegalArgumentException(
            "maxMessagesPerKey must be 1..2^32: " + maxMessagesPerKey);
      }
      this.maxMessagesPerKey = maxMessagesPerKey;
      return this;
    }

    /** Plaintext bytes per data key, at least 1 (default: no limit, 2^63-1). */
    public Builder maxBytesPerKey(long maxBytesPerKey) {
      if (maxBytesPerKey < 1) {
        throw new IllegalArgumentException("maxBytesPerKey must be at least 1: " + maxBytesPerKey);
      }
      this.maxBytesPerKey = maxBytesPerKey;
      return this;
    }
  }
}
