package io.keyrotor.storage.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Quota;
import io.keyrotor.storage.access.QuotaSet.QuotaRule;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which quotas apply to a principal and a permission, and the rules a policy's quotas follow. */
class QuotaSetTest {
  private static Quota.Builder quota(String name, String principal, double rate) {
    return Quota.newBuilder().setName(name).setPrincipal(principal).setRequestsPerSecond(rate);
  }

  private static AuthorizationPolicy.Builder policy(Quota.Builder... quotas) {
    AuthorizationPolicy.Builder policy = PolicyRules.bootstrap(List.of("admin")).toBuilder();
    for (Quota.Builder q : quotas) {
      policy.addQuotas(q);
    }
    return policy;
  }

  @Test
  void quotasMatchByPrincipalGlob_inPolicyOrder_andCoverTheirPermissionsOnly() {
    AccessPolicy compiled =
        AccessPolicy.compile(
            policy(
                    quota("everyone", "*", 100),
                    quota("services", "svc-*", 10)
                        .addPermissions(Permission.PERMISSION_ENCRYPT)
                        .setBurst(5),
                    quota("other", "batch", 1))
                .build());

    List<QuotaRule> rules = compiled.quotas().of("svc-payments");

    assertEquals(List.of("everyone", "services"), rules.stream().map(QuotaRule::name).toList());
    assertTrue(rules.get(0).covers(Permission.PERMISSION_DECRYPT), "no permissions: every call");
    assertTrue(rules.get(1).covers(Permission.PERMISSION_ENCRYPT));
    assertFalse(rules.get(1).covers(Permission.PERMISSION_DECRYPT));
    assertEquals(5, rules.get(1).burst());
    assertEquals(100, rules.get(0).burst(), "burst 0: the rate rounded up");
    assertEquals(List.of(), AccessPolicy.compile(policy().build()).quotas().of("svc-payments"));
  }

  @Test
  void burstOfASlowQuotaWithoutOne_isOne() {
    assertEquals(1, QuotaSet.burstOf(quota("slow", "*", 0.01).build()));
    assertEquals(3, QuotaSet.burstOf(quota("r", "*", 2.5).build()));
  }

  @Test
  void malformedQuotas_named() {
    assertEquals(Optional.empty(), PolicyRules.problem(policy(quota("ok", "*", 5)).build()));
    assertProblem(policy(quota("", "*", 5)), "a quota has no name");
    assertProblem(policy(quota("a", "*", 5), quota("a", "b", 5)), "quota \"a\" is defined twice");
    assertProblem(policy(quota("a", "", 5)), "quota \"a\" names no principal");
    assertProblem(policy(quota("a", "*", 0)), "quota \"a\" has requests_per_second 0.0");
    assertProblem(policy(quota("a", "*", Double.NaN)), "requests_per_second NaN");
    assertProblem(policy(quota("a", "*", -1)), "requests_per_second -1.0");
    assertProblem(policy(quota("a", "*", 1e7)), "at most 1000000");
    assertProblem(policy(quota("a", "*", 1).setBurst(2_000_000)), "burst 2000000");
    assertProblem(
        policy(quota("a", "*", 1).addPermissions(Permission.PERMISSION_UNSPECIFIED)),
        "quota \"a\" names an unknown permission");
    AuthorizationPolicy.Builder many = policy();
    for (int i = 0; i <= PolicyRules.MAX_QUOTAS; i++) {
      many.addQuotas(quota("q" + i, "*", 1));
    }
    assertProblem(many, "at most 256 quotas");
  }

  private static void assertProblem(AuthorizationPolicy.Builder policy, String expected) {
    Optional<String> problem = PolicyRules.problem(policy.build());
    assertTrue(problem.isPresent(), "accepted: " + policy);
    assertTrue(problem.get().contains(expected), problem.get());
  }
}
