package io.keyrotor.client.envelope;

import java.time.Duration;
import java.util.Objects;

/**
 * Remembers unwrapped data keys, so that decrypting many envelopes sealed with one (cached) data
 * key asks the server once. Keyed by the wrapped data key's bytes and the encryption context: a
 * different context never hits, so it still reaches the server and fails there.
 *
 * <p>Off unless given to {@link EnvelopeCipher.Builder#decryptionKeyCache(DecryptionKeyCache)}. The
 * trade-off: the server's checks are not repeated for a cached entry, so a key version that is
 * disabled or destroyed keeps decrypting here until the entry expires, at most {@code maxAge}
 * later; {@link #invalidate(String)} drops a key's entries at once (for example from a {@code
 * watchKeyEvents} listener on DISABLED events).
 *
 * <p>Thread-safe; callers get copies; entries are zeroed when they leave (expiry, capacity,
 * invalidation, {@link #close()}).
 */
public final class DecryptionKeyCache implements AutoCloseable {

  private final KeyCacheCore core;
  private final Duration maxAge;

  private DecryptionKeyCache(Builder builder) {
    // Entries are kept for maxAge + maxStale, and used past maxAge only by leaseStaleOrNull.
    this.core =
        new KeyCacheCore(builder.maxAge.plus(builder.maxStale), builder.maxEntries, builder.clock);
    this.maxAge = builder.maxAge;
  }

  /** A builder; {@link Builder#maxAge(Duration)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A copy of the cached data key for this wrapped key and context if it is younger than {@code
   * maxAge}, or null.
   */
  DataKey leaseOrNull(byte[] wrapped, byte[] contextEncoding) {
    CacheKey key = new CacheKey("", wrapped, contextEncoding);
    synchronized (core) {
      KeyCacheCore.Entry entry = core.getOrNull(key);
      if (entry == null || !core.now().isBefore(entry.createdAt.plus(maxAge))) {
        return null;
      }
      return entry.dataKey.copy();
    }
  }

  /**
   * A copy of the cached data key for this wrapped key and context if it is younger than {@code
   * maxAge + maxStale}, or null: for when the cluster cannot be reached to unwrap it again.
   */
  DataKey leaseStaleOrNull(byte[] wrapped, byte[] contextEncoding) {
    CacheKey key = new CacheKey("", wrapped, contextEncoding);
    synchronized (core) {
      KeyCacheCore.Entry entry = core.getOrNull(key);
      return entry == null ? null : entry.dataKey.copy();
    }
  }

  /** Caches an unwrapped data key; takes ownership of {@code dataKey}. */
  void offer(byte[] contextEncoding, DataKey dataKey) {
    CacheKey key = new CacheKey("", dataKey.wrapped(), contextEncoding);
    core.put(key, dataKey);
  }

  /** The number of data keys held. */
  public int size() {
    return core.size();
  }

  /** Zeroes and drops every data key wrapped under any version of {@code keyName}. */
  public int invalidate(String keyName) {
    Objects.requireNonNull(keyName, "keyName");
    return core.removeIf(dataKey -> dataKey.keyName().equals(keyName));
  }

  /** Zeroes and drops every data key wrapped under version {@code version} of {@code keyName}. */
  public int invalidate(String keyName, int version) {
    Objects.requireNonNull(keyName, "keyName");
    return core.removeIf(
        dataKey -> dataKey.keyName().equals(keyName) && dataKey.keyVersion() == version);
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

  /** Limits of a {@link DecryptionKeyCache}. */
  public static final class Builder extends KeyCacheBuilder<Builder, DecryptionKeyCache> {
    private Duration maxStale = Duration.ZERO;

    private Builder() {
      super(1000, DecryptionKeyCache::new);
    }

    /** How long an unwrapped data key is remembered. Required. */
    public Builder maxAge(Duration maxAge) {
      this.maxAge = KeyCacheCore.checkMaxAge(maxAge);
      return this;
    }

    /**
     * How much longer than {@code maxAge} an unwrapped data key is kept for use while the cluster
     * cannot be reached (default zero: never). Only callers that ask for a stale entry after a
     * failed call get it (the key agent does); a cached key's version disabled during the outage
     * keeps decrypting there until {@code maxAge + maxStale}.
     */
    public Builder maxStale(Duration maxStale) {
      Objects.requireNonNull(maxStale, "maxStale");
      if (maxStale.isNegative()) {
        throw new IllegalArgumentException("maxStale must not be negative: " + maxStale);
      }
      this.maxStale = maxStale;
      return this;
    }
  }
}
