package io.keyrotor.server.dataplane;

import com.codahale.metrics.MetricRegistry;
import com.google.common.base.Ticker;
import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.cache.CacheStats;
import com.google.common.cache.RemovalListener;
import com.google.common.util.concurrent.ExecutionError;
import com.google.common.util.concurrent.UncheckedExecutionException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.consensus.KeyrotorStateMachine;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.hsm.KekChecks;
import io.keyrotor.storage.VersionUse;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unwrapped key-encryption keys, in memory only, keyed by (zone, key, version).
 *
 * <ul>
 *   <li>A key enters only after its key check value matched the record it was read from (see {@link
 *       KekChecks}): wrapped bytes moved from another key or version are refused with {@code
 *       KEK_CHECK_FAILED} and never used.
 *   <li>Bounded by entry count and idle time; every entry that leaves the cache (evicted, expired,
 *       dropped, cache closed) is zeroed by its removal listener.
 *   <li>A miss unwraps through the node's HSM once: concurrent misses for the same entry wait for
 *       that one unwrap rather than each asking the HSM.
 *   <li>Dropped when a version stops being usable (disabled, destroy scheduled, destroyed,
 *       cancelled, below the minimum decryption version): {@link #applyListener()} watches applied
 *       commands, a load that raced such a command drops its own result, and {@link #retainUsable}
 *       sweeps after state changes that bypass apply (an installed snapshot).
 * </ul>
 *
 * The cache is not an authority: every data-plane call checks the version's state in the replicated
 * state first. It only saves HSM round trips. Key bytes never appear in logs, metrics or exception
 * messages.
 *
 * <p>Inside a traced call each lookup that finds its key, and each one that may unwrap, is a span
 * {@code keyrotor.kek.lookup} (zone, key name, version, whether the cache held it); a miss's HSM
 * unwrap is its child {@code hsm.unwrap}. A fast-path miss that is retried on the slow path is not
 * a span of its own.
 */
@SuppressWarnings("try") // the Scope is held only to be closed
public final class KekCache implements AutoCloseable {
  /** Default bound on cached key-encryption keys. */
  public static final long DEFAULT_MAX_ENTRIES = 10_000;

  /** Default idle time after which a cached key-encryption key is dropped and zeroed. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(15);

  private static final Logger LOG = LoggerFactory.getLogger(KekCache.class);
  private static final long UNAVAILABLE_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  static final AttributeKey<String> ZONE = AttributeKey.stringKey("keyrotor.zone");
  static final AttributeKey<String> KEY_NAME = AttributeKey.stringKey("keyrotor.key.name");
  static final AttributeKey<Long> KEY_VERSION = AttributeKey.longKey("keyrotor.key.version");
  static final AttributeKey<Boolean> CACHE_HIT = AttributeKey.booleanKey("keyrotor.kek.cache_hit");

  private static final Tracer NO_TRACER = OpenTelemetry.noop().getTracer("io.keyrotor.server");

  /** What a cache entry is for. */
  public record Id(String zone, String keyName, int version) {}

  private final Hsm hsm;
  private final Tracer tracer;
  private final Cache<Id, Kek> cache;
  private final AtomicLong unwraps = new AtomicLong();
  private final AtomicLong unwrapFailures = new AtomicLong();
  private final AtomicLong checkFailures = new AtomicLong();
  private final AtomicLong lastUnavailableLogNanos =
      new AtomicLong(System.nanoTime() - UNAVAILABLE_LOG_INTERVAL_NANOS - 1);

  public KekCache(Hsm hsm, long maxEntries, Duration idleTimeout) {
    this(hsm, maxEntries, idleTimeout, NO_TRACER);
  }

  /** Also spans of lookups inside traced calls, from {@code tracer}. */
  public KekCache(Hsm hsm, long maxEntries, Duration idleTimeout, Tracer tracer) {
    this(hsm, maxEntries, idleTimeout, Ticker.systemTicker(), tracer);
  }

  KekCache(Hsm hsm, long maxEntries, Duration idleTimeout, Ticker ticker) {
    this(hsm, maxEntries, idleTimeout, ticker, NO_TRACER);
  }

  private KekCache(Hsm hsm, long maxEntries, Duration idleTimeout, Ticker ticker, Tracer tracer) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("the KEK cache needs room for at least one entry");
    }
    this.hsm = hsm;
    this.tracer = tracer;
    RemovalListener<Id, Kek> zeroOnRemoval = removal -> removal.getValue().destroy();
    this.cache =
        CacheBuilder.newBuilder()
            .maximumSize(maxEntries)
            .expireAfterAccess(idleTimeout)
            .concurrencyLevel(16)
            .ticker(ticker)
            .removalListener(zeroOnRemoval)
            .recordStats()
            .build();
  }

  /** The cached key, or null on a miss (never asks the HSM). */
  Kek getIfPresent(Id id) {
    Kek cached = cache.getIfPresent(id);
    if (cached != null && Span.current().getSpanContext().isValid()) {
      lookupSpan(id, true).end();
    }
    return cached;
  }

  /** A lookup span of {@code id}, child of the current span. */
  private Span lookupSpan(Id id, boolean hit) {
    return tracer
        .spanBuilder("keyrotor.kek.lookup")
        .setAttribute(ZONE, id.zone())
        .setAttribute(KEY_NAME, id.keyName())
        .setAttribute(KEY_VERSION, (long) id.version())
        .setAttribute(CACHE_HIT, hit)
        .startSpan();
  }

  /**
   * The key for {@code id}, unwrapping {@code wrapped} through the HSM on a miss (one unwrap for
   * concurrent misses of the same id). If {@code stillUsable} no longer holds once a load finishes
   * (the version was disabled meanwhile), the loaded key is dropped again, and the returned one is
   * already destroyed: the caller re-checks the version's state.
   */
  Kek get(Id id, WrappedKeyMaterial wrapped, Predicate<Id> stillUsable) throws DataPlaneException {
    Kek cached = getIfPresent(id);
    if (cached != null) {
      return cached;
    }
    Span span =
        Span.current().getSpanContext().isValid() ? lookupSpan(id, false) : Span.getInvalid();
    Kek kek;
    try (Scope unused = span.makeCurrent()) {
      kek = cache.get(id, () -> unwrap(id, wrapped));
    } catch (ExecutionException | UncheckedExecutionException | ExecutionError e) {
      DataPlaneException failure = failure(id, e.getCause());
      // The reason only: the message names the key, which the attributes already do.
      span.setStatus(StatusCode.ERROR, failure.reason().name());
      throw failure;
    } finally {
      span.end();
    }
    if (!stillUsable.test(id)) {
      cache.invalidate(id);
    }
    return kek;
  }

  private Kek unwrap(Id id, WrappedKeyMaterial wrapped) throws HsmException {
    if (!wrapped.getZone().equals(id.zone())) {
      throw new HsmException(
          HsmException.Reason.UNWRAP_FAILED,
          "the stored key-encryption key is wrapped under zone "
              + wrapped.getZone()
              + ", not the key's zone "
              + id.zone());
    }
    unwraps.incrementAndGet();
    try {
      return new Kek(KekChecks.unwrapChecked(hsm, wrapped, id.zone(), id.keyName(), id.version()));
    } catch (HsmException e) {
      unwrapFailures.incrementAndGet();
      if (e.reason() == HsmException.Reason.KEK_CHECK_FAILED) {
        checkFailures.incrementAndGet();
      }
      throw e;
    } catch (RuntimeException e) {
      unwrapFailures.incrementAndGet();
      throw e;
    }
  }

  private DataPlaneException failure(Id id, Throwable cause) {
    DataPlaneException failure = describe(id, cause);
    if (failure.reason() != ErrorReason.HSM_UNAVAILABLE) {
      // Integrity or configuration trouble: always worth an operator's attention.
      LOG.warn("KEK unwrap failed ({}): {}", failure.reason(), failure.getMessage());
    } else {
      long now = System.nanoTime();
      long last = lastUnavailableLogNanos.get();
      if (now - last > UNAVAILABLE_LOG_INTERVAL_NANOS
          && lastUnavailableLogNanos.compareAndSet(last, now)) {
        LOG.warn(
            "HSM unavailable for a KEK cache miss (cached keys keep working): {}",
            failure.getMessage());
      }
    }
    return failure;
  }

  private static DataPlaneException describe(Id id, Throwable cause) {
    Map<String, String> where =
        Map.of("zone", id.zone(), "key", id.keyName(), "version", Integer.toString(id.version()));
    if (cause instanceof HsmException hsm) {
      return new DataPlaneException(
          HsmFailures.reasonOf(hsm.reason()),
          "cannot unwrap the key-encryption key of "
              + id.keyName()
              + " version "
              + id.version()
              + ": "
              + hsm.getMessage(),
          where,
          hsm);
    }
    return new DataPlaneException(
        ErrorReason.HSM_FAILED,
        "cannot unwrap the key-encryption key of "
            + id.keyName()
            + " version "
            + id.version()
            + ": "
            + (cause == null ? "unknown error" : cause.getClass().getSimpleName()),
        where,
        cause);
  }

  /** Drops (and zeroes) the entry of one version, in any zone. */
  public void invalidate(String keyName, int version) {
    cache.asMap().keySet().removeIf(id -> id.version() == version && id.keyName().equals(keyName));
  }

  /** Drops (and zeroes) every entry for which {@code usable} is false. */
  public void retainUsable(Predicate<Id> usable) {
    cache.asMap().keySet().removeIf(id -> !usable.test(id));
  }

  /**
   * Drops the versions an applied command made unusable. Runs on the apply thread after the state
   * reflects the command: cheap, and never throws.
   */
  public KeyrotorStateMachine.ApplyListener applyListener() {
    return (command, result, index, nanos) -> {
      if (!result.hasKey() || cache.size() == 0) {
        return;
      }
      KeyRecord key = result.getKey();
      for (KeyVersionRecord version : key.getVersionsList()) {
        if (!VersionUse.mayStillBeUsed(key, version)) {
          cache.invalidate(new Id(key.getZone(), key.getName(), version.getVersion()));
        }
      }
    };
  }

  /** Entries now cached. */
  public long size() {
    return cache.size();
  }

  /** Hits, misses and evictions since start. */
  public CacheStats stats() {
    return cache.stats();
  }

  /** HSM unwraps since start, and how many of them failed. */
  public long unwraps() {
    return unwraps.get();
  }

  public long unwrapFailures() {
    return unwrapFailures.get();
  }

  /**
   * Unwraps refused since start because the key did not match the check value stored with it
   * ({@link KekChecks}): also counted in {@link #unwrapFailures()}.
   */
  public long checkFailures() {
    return checkFailures.get();
  }

  /**
   * Reports this cache as gauges: {@code dataplane.kek-cache.size|hits|misses|evictions} and {@code
   * dataplane.hsm.unwraps|unwrap-failures} and {@code dataplane.kek-check-failures}.
   */
  public void registerMetrics(MetricRegistry registry) {
    registry.gauge("dataplane.kek-cache.size", () -> this::size);
    registry.gauge("dataplane.kek-cache.hits", () -> () -> stats().hitCount());
    registry.gauge("dataplane.kek-cache.misses", () -> () -> stats().missCount());
    registry.gauge("dataplane.kek-cache.evictions", () -> () -> stats().evictionCount());
    registry.gauge("dataplane.hsm.unwraps", () -> this::unwraps);
    registry.gauge("dataplane.hsm.unwrap-failures", () -> this::unwrapFailures);
    registry.gauge("dataplane.kek-check-failures", () -> this::checkFailures);
  }

  /** Runs pending expiry and eviction now (Guava otherwise does it on later accesses). */
  void cleanUp() {
    cache.cleanUp();
  }

  /** Drops and zeroes every entry. */
  @Override
  public void close() {
    cache.invalidateAll();
    cache.cleanUp();
  }
}
