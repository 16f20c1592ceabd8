package io.keyrotor.client.envelope;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * The limits that both key caches take ({@link DataKeyCache}, {@link DecryptionKeyCache}): how long
 * an entry lives (each cache says what that means for it), how many entries are held, and the clock
 * that ages are measured on.
 *
 * @param <B> the cache's own builder, which every setter returns
 * @param <C> the cache it builds
 */
public abstract class KeyCacheBuilder<B extends KeyCacheBuilder<B, C>, C> {
  Duration maxAge;
  int maxEntries;
  Clock clock = Clock.systemUTC();
  private final Function<B, C> cache;

  /**
   * @param defaultMaxEntries {@code maxEntries} unless the caller sets it
   * @param cache the cache's constructor, called by {@link #build()} once the limits every cache
   *     needs are checked
   */
  KeyCacheBuilder(int defaultMaxEntries, Function<B, C> cache) {
    this.maxEntries = defaultMaxEntries;
    this.cache = cache;
  }

  /** This builder, as its own type (the type argument {@code B} is always the subclass). */
  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /**
   * Data keys held at once, at least 1 (default: 100 in a {@link DataKeyCache}, 1000 in a {@link
   * DecryptionKeyCache}); the oldest goes first.
   */
  public B maxEntries(int maxEntries) {
    this.maxEntries = KeyCacheCore.checkMaxEntries(maxEntries);
    return self();
  }

  /** The clock ages are measured on (tests: a manual clock). */
  public B clock(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    return self();
  }

  /** Builds the cache; {@code maxAge} must have been given. */
  public C build() {
    KeyCacheCore.requireMaxAge(maxAge);
    return cache.apply(self());
  }
}
