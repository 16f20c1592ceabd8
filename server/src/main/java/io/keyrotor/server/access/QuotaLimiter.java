package io.keyrotor.server.access;

import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.ThrottledPrincipal;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.access.QuotaSet.QuotaRule;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The policy's quotas on this node: one token bucket per quota and principal, taken from by every
 * call the policy allows. A call matched by several quotas takes a token from each, or from none
 * (the tokens it took are given back when a later quota refuses).
 *
 * <p>Bounded: at most {@value #BUCKET_LIMIT} buckets. When that many exist, idle buckets (full and
 * not refusing: indistinguishable from new ones) are dropped; if none is full, principals beyond
 * the bound share one overflow bucket per quota, so the bound can only make the limit stricter.
 * Buckets start over (full) when the policy version changes.
 *
 * <p>It reads a monotonic clock (nanoseconds) for refills and the wall clock only to say when a
 * principal was last refused.
 */
public final class QuotaLimiter {
  /** Most buckets a node keeps. */
  static final int BUCKET_LIMIT = 16_384;

  /** Most throttled principals {@link #throttled()} reports. */
  static final int REPORTED_LIMIT = 20;

  private static final long NANOS_PER_SECOND = 1_000_000_000L;
  private static final long SPELL_GAP_NANOS = 60 * NANOS_PER_SECOND;
  private static final String OVERFLOW = "";

  private final LongSupplier nanoTime;
  private final LongSupplier wallMillis;
  private volatile Buckets current = new Buckets(-1);

  /**
   * @param nanoTime a monotonic clock in nanoseconds ({@code System::nanoTime})
   * @param wallMillis the wall clock in milliseconds, for reports only
   */
  public QuotaLimiter(LongSupplier nanoTime, LongSupplier wallMillis) {
    this.nanoTime = nanoTime;
    this.wallMillis = wallMillis;
  }

  /** A refusal: which quota, and how long until it has a token again. */
  public record Refusal(String quota, Duration retryAfter) {}

  /**
   * Takes a token for a call of {@code principal} needing {@code permission} from every quota of
   * {@code policy} that covers it.
   *
   * @return null when the call may go ahead, else the quota that refused it
   */
  public Refusal admit(AccessPolicy policy, String principal, Permission permission) {
    List<QuotaRule> rules = policy.quotas().of(principal);
    if (rules.isEmpty()) {
      return null;
    }
    Buckets buckets = bucketsFor(policy.version());
    long now = nanoTime.getAsLong();
    for (int i = 0; i < rules.size(); i++) {
      QuotaRule rule = rules.get(i);
      if (!rule.covers(permission)) {
        continue;
      }
      Bucket bucket = buckets.of(rule, principal, now);
      long waitNanos = bucket.take(now, wallMillis);
      if (waitNanos > 0) {
        for (int j = 0; j < i; j++) {
          QuotaRule taken = rules.get(j);
          if (taken.covers(permission)) {
            buckets.of(taken, principal, now).giveBack();
          }
        }
        return new Refusal(rule.name(), Duration.ofNanos(waitNanos));
      }
    }
    return null;
  }

  /**
   * The principals refused within the last minute, with their refusals since the spell began, most
   * refused first (at most {@value #REPORTED_LIMIT}).
   */
  public List<ThrottledPrincipal> throttled() {
    long now = nanoTime.getAsLong();
    List<ThrottledPrincipal> out = new ArrayList<>();
    for (var entry : current.map.entrySet()) {
      String principal = entry.getKey().principal;
      ThrottledPrincipal report =
          entry.getValue().report(principal.equals(OVERFLOW) ? "(overflow)" : principal, now);
      if (report != null) {
        out.add(report);
      }
    }
    out.sort(
        Comparator.comparingLong(ThrottledPrincipal::getRefused)
            .reversed()
            .thenComparing(ThrottledPrincipal::getPrincipal));
    return out.size() > REPORTED_LIMIT ? List.copyOf(out.subList(0, REPORTED_LIMIT)) : out;
  }

  /** How many buckets this node holds now. */
  int bucketCount() {
    return current.map.size();
  }

  private Buckets bucketsFor(long policyVersion) {
    Buckets buckets = current;
    if (buckets.policyVersion == policyVersion) {
      return buckets;
    }
    synchronized (this) {
      if (current.policyVersion != policyVersion) {
        current = new Buckets(policyVersion);
      }
      return current;
    }
  }

  private static com.google.protobuf.Timestamp timestamp(long millis) {
    Instant instant = Instant.ofEpochMilli(millis);
    return com.google.protobuf.Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  private record BucketKey(int quota, String principal) {}

  /** The buckets of one policy version. */
  private static final class Buckets {
    final long policyVersion;
    final ConcurrentHashMap<BucketKey, Bucket> map = new ConcurrentHashMap<>();

    private long lastSweep = Long.MIN_VALUE;

    Buckets(long policyVersion) {
      this.policyVersion = policyVersion;
    }

    /** Drops idle buckets, at most once a second (a sweep walks every bucket). */
    private synchronized void sweep(long now) {
      if (lastSweep != Long.MIN_VALUE && now - lastSweep < NANOS_PER_SECOND) {
        return;
      }
      lastSweep = now;
      map.values().removeIf(b -> b.isIdle(now));
    }

    Bucket of(QuotaRule rule, String principal, long now) {
      BucketKey key = new BucketKey(rule.index(), principal);
      Bucket bucket = map.get(key);
      if (bucket != null) {
        return bucket;
      }
      if (map.size() >= BUCKET_LIMIT) {
        sweep(now);
        if (map.size() >= BUCKET_LIMIT) {
          key = new BucketKey(rule.index(), OVERFLOW);
        }
      }
      return map.computeIfAbsent(key, k -> new Bucket(rule, now));
    }
  }

  /**
   * A token bucket, with its current spell of refusals for status: a spell starts at a refusal that
   * follows a minute without any, and is reported until a minute passes without one.
   */
  private static final class Bucket {
    final String quota;
    final double tokensPerNano;
    final double capacity;
    private double tokens;
    private long refilledAt;
    private long refusedInSpell;
    private long lastRefusedAt;
    private long spellStartWallMillis;
    private long lastRefusedWallMillis;

    Bucket(QuotaRule rule, long now) {
      this.quota = rule.name();
      this.tokensPerNano = rule.perSecond() / NANOS_PER_SECOND;
      this.capacity = rule.burst();
      this.tokens = capacity;
      this.refilledAt = now;
    }

    /** Takes a token: 0 when there was one, else the nanoseconds until there is. */
    synchronized long take(long now, LongSupplier wallMillis) {
      refill(now);
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      long wall = wallMillis.getAsLong();
      if (!inSpell(now)) {
        refusedInSpell = 0;
        spellStartWallMillis = wall;
      }
      refusedInSpell++;
      lastRefusedAt = now;
      lastRefusedWallMillis = wall;
      return Math.max(1, (long) Math.ceil((1 - tokens) / tokensPerNano));
    }

    synchronized void giveBack() {
      tokens = Math.min(capacity, tokens + 1);
    }

    /** Full and not refusing: a bucket a new one would equal, safe to drop. */
    synchronized boolean isIdle(long now) {
      refill(now);
      return tokens >= capacity && !inSpell(now);
    }

    /** The refusals of the current spell, or null when there is none. */
    synchronized ThrottledPrincipal report(String principal, long now) {
      if (!inSpell(now)) {
        return null;
      }
      return ThrottledPrincipal.newBuilder()
          .setPrincipal(principal)
          .setQuota(quota)
          .setRefused(refusedInSpell)
          .setFirstRefused(timestamp(spellStartWallMillis))
          .setLastRefused(timestamp(lastRefusedWallMillis))
          .build();
    }

    private boolean inSpell(long now) {
      return refusedInSpell > 0 && now - lastRefusedAt <= SPELL_GAP_NANOS;
    }

    private void refill(long now) {
      long elapsed = now - refilledAt;
      if (elapsed > 0) {
        tokens = Math.min(capacity, tokens + elapsed * tokensPerNano);
        refilledAt = now;
      }
    }
  }
}
