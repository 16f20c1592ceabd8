package io.keyrotor.server.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Quota;
import io.keyrotor.api.v1.ThrottledPrincipal;
import io.keyrotor.storage.access.AccessPolicy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Token buckets per quota and principal, on a clock the test moves. */
class QuotaLimiterTest {
  private static final Permission ENCRYPT = Permission.PERMISSION_ENCRYPT;
  private static final Permission DECRYPT = Permission.PERMISSION_DECRYPT;

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final AtomicLong wall = new AtomicLong(1_700_000_000_000L);
  private final QuotaLimiter limiter = new QuotaLimiter(nanos::get, wall::get);

  private static Quota.Builder quota(String name, String principal, double rate, int burst) {
    return Quota.newBuilder()
        .setName(name)
        .setPrincipal(principal)
        .setRequestsPerSecond(rate)
        .setBurst(burst);
  }

  private static AccessPolicy policy(long version, Quota.Builder... quotas) {
    AuthorizationPolicy.Builder policy = AuthorizationPolicy.newBuilder().setVersion(version);
    for (Quota.Builder q : quotas) {
      policy.addQuotas(q);
    }
    return AccessPolicy.compile(policy.build());
  }

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
    wall.addAndGet(d.toMillis());
  }

  @Test
  void burstThenRefused_withTheTimeToTheNextToken_thenRefilledAtTheRate() {
    AccessPolicy policy = policy(1, quota("q", "*", 2, 3));

    for (int i = 0; i < 3; i++) {
      assertNull(limiter.admit(policy, "svc", ENCRYPT), "call " + i + " of the burst");
    }
    QuotaLimiter.Refusal refusal = limiter.admit(policy, "svc", ENCRYPT);

    assertNotNull(refusal);
    assertEquals("q", refusal.quota());
    assertEquals(Duration.ofMillis(500), refusal.retryAfter(), "one token per 500 ms");
    advance(Duration.ofMillis(499));
    assertNotNull(limiter.admit(policy, "svc", ENCRYPT), "not yet");
    advance(Duration.ofMillis(1));
    assertNull(limiter.admit(policy, "svc", ENCRYPT), "a token after 500 ms");
    advance(Duration.ofHours(1));
    for (int i = 0; i < 3; i++) {
      assertNull(limiter.admit(policy, "svc", ENCRYPT), "refilled to the burst, no more");
    }
    assertNotNull(limiter.admit(policy, "svc", ENCRYPT));
  }

  @Test
  void eachPrincipalHasItsOwnBucket_andUncoveredPermissionsPass() {
    AccessPolicy policy = policy(1, quota("q", "svc-*", 1, 1).addPermissions(ENCRYPT));

    assertNull(limiter.admit(policy, "svc-a", ENCRYPT));
    assertNotNull(limiter.admit(policy, "svc-a", ENCRYPT));
    assertNull(limiter.admit(policy, "svc-b", ENCRYPT), "another principal, another bucket");
    assertNull(limiter.admit(policy, "svc-a", DECRYPT), "the quota does not cover DECRYPT");
    assertNull(limiter.admit(policy, "admin", ENCRYPT), "the quota does not match admin");
  }

  @Test
  void callUnderTwoQuotas_takesFromBoth_orFromNeither() {
    AccessPolicy policy =
        policy(1, quota("wide", "*", 1, 3), quota("narrow", "svc", 1, 1).addPermissions(ENCRYPT));

    assertNull(limiter.admit(policy, "svc", ENCRYPT)); // wide 2 left, narrow 0
    QuotaLimiter.Refusal refusal = limiter.admit(policy, "svc", ENCRYPT);
    assertEquals("narrow", refusal.quota());
    // The refused call gave its token of "wide" back: two DECRYPTs (wide only) still pass.
    assertNull(limiter.admit(policy, "svc", DECRYPT));
    assertNull(limiter.admit(policy, "svc", DECRYPT));
    assertEquals("wide", limiter.admit(policy, "svc", DECRYPT).quota());
  }

  @Test
  void newPolicyVersion_startsTheBucketsOver() {
    AccessPolicy first = policy(1, quota("q", "*", 1, 1));
    assertNull(limiter.admit(first, "svc", ENCRYPT));
    assertNotNull(limiter.admit(first, "svc", ENCRYPT));

    assertNull(limiter.admit(policy(2, quota("q", "*", 1, 1)), "svc", ENCRYPT));
    assertNull(limiter.admit(policy(3), "svc", ENCRYPT), "no quota, no limit");
  }

  @Test
  void throttledPrincipals_reportedWithTheirSpell_untilAQuietMinute() {
    AccessPolicy policy = policy(1, quota("q", "*", 1, 1));
    assertNull(limiter.admit(policy, "calm", ENCRYPT));
    assertNull(limiter.admit(policy, "busy", ENCRYPT));
    long firstRefusal = wall.get();
    for (int i = 0; i < 3; i++) {
      assertNotNull(limiter.admit(policy, "busy", ENCRYPT));
    }
    advance(Duration.ofMillis(100));
    assertNotNull(limiter.admit(policy, "busy", ENCRYPT));

    List<ThrottledPrincipal> throttled = limiter.throttled();

    assertEquals(1, throttled.size(), throttled::toString);
    ThrottledPrincipal busy = throttled.get(0);
    assertEquals("busy", busy.getPrincipal());
    assertEquals("q", busy.getQuota());
    assertEquals(4, busy.getRefused());
    assertEquals(firstRefusal / 1000, busy.getFirstRefused().getSeconds());
    assertEquals((firstRefusal + 100) / 1000, busy.getLastRefused().getSeconds());
    advance(Duration.ofSeconds(61));
    assertEquals(List.of(), limiter.throttled(), "a quiet minute ends the spell");
  }

  @Test
  void bucketsAreBounded_idleOnesDropped_theRestShareAnOverflowBucket() {
    AccessPolicy policy = policy(1, quota("q", "*", 1, 1));
    for (int i = 0; i < QuotaLimiter.BUCKET_LIMIT; i++) {
      limiter.admit(policy, "p" + i, ENCRYPT); // each bucket now empty: not idle
    }
    assertEquals(QuotaLimiter.BUCKET_LIMIT, limiter.bucketCount());

    assertNull(limiter.admit(policy, "late-1", ENCRYPT), "the overflow bucket's one token");
    assertNotNull(limiter.admit(policy, "late-2", ENCRYPT), "shared with every late principal");
    assertTrue(limiter.bucketCount() <= QuotaLimiter.BUCKET_LIMIT + 1, "" + limiter.bucketCount());

    advance(Duration.ofSeconds(2)); // every bucket refilled, no refusal among the first ones
    assertNull(limiter.admit(policy, "late-3", ENCRYPT));
    assertTrue(limiter.bucketCount() < 10, "idle buckets dropped: " + limiter.bucketCount());
  }
}
