package io.keyrotor.storage.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Binding;
import io.keyrotor.api.v1.ContextCondition;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Role;
import io.keyrotor.proto.internal.v1.Label;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The evaluator: patterns, labels, zones, context conditions, default deny, and policy rules. */
class AccessPolicyTest {
  private static final Permission READ = Permission.PERMISSION_READ_KEYS;
  private static final Permission DECRYPT = Permission.PERMISSION_DECRYPT;
  private static final Permission ENCRYPT = Permission.PERMISSION_ENCRYPT;
  private static final Permission ADMIN = Permission.PERMISSION_ADMINISTER;

  private static AuthorizationPolicy.Builder base() {
    return PolicyRules.bootstrap(List.of("admin")).toBuilder()
        .setVersion(7)
        .addRoles(role("reader", READ))
        .addRoles(role("crypto", ENCRYPT, DECRYPT));
  }

  private static Role role(String name, Permission... permissions) {
    return Role.newBuilder().setName(name).addAllPermissions(List.of(permissions)).build();
  }

  private static Binding.Builder binding(String name, String role, String principal) {
    return Binding.newBuilder().setName(name).setRole(role).setPrincipal(principal);
  }

  private static Label label(String key, String value) {
    return Label.newBuilder().setKey(key).setValue(value).build();
  }

  @Test
  void defaultDeny_noPolicyAndNoMatchingBinding() {
    AccessDecision none =
        AccessPolicy.NONE.check("admin", READ, "k", "default", List.of(), Map.of());
    assertFalse(none.allowed());
    assertTrue(none.explanation().contains("no authorisation policy"), none.explanation());

    AccessPolicy policy = AccessPolicy.compile(base().build());
    AccessDecision stranger = policy.check("mallory", READ, "k", "default", List.of(), Map.of());
    assertFalse(stranger.allowed());
    assertEquals(
        "principal \"mallory\" lacks READ_KEYS on key \"k\" under policy version 7",
        stranger.explanation());
    assertTrue(policy.checkCluster("admin", ADMIN).allowed());
    assertEquals("bootstrap-admin-admin", policy.checkCluster("admin", ADMIN).binding());
  }

  @Test
  void principalAndKeyPatterns_globsMatchRunsOfCharacters() {
    AccessPolicy policy =
        AccessPolicy.compile(
            base()
                .addBindings(
                    binding("payments", "reader", "spiffe://example.org/service/*")
                        .setKeyPattern("payments-*-eu"))
                .build());
    String svc = "spiffe://example.org/service/billing";
    assertTrue(policy.check(svc, READ, "payments-cards-eu", "", List.of(), Map.of()).allowed());
    assertTrue(policy.check(svc, READ, "payments--eu", "", List.of(), Map.of()).allowed());
    assertFalse(policy.check(svc, READ, "payments-cards-us", "", List.of(), Map.of()).allowed());
    assertFalse(policy.check(svc, READ, "orders", "", List.of(), Map.of()).allowed());
    assertFalse(
        policy
            .check(
                "spiffe://example.org/other/billing",
                READ,
                "payments-x-eu",
                "",
                List.of(),
                Map.of())
            .allowed());
    // Permission not in the role.
    assertFalse(policy.check(svc, DECRYPT, "payments-cards-eu", "", List.of(), Map.of()).allowed());
    // A key-scoped binding never grants cluster-wide operations.
    assertFalse(policy.checkCluster(svc, READ).allowed());
  }

  @Test
  void labelsAndZone_everySelectedLabelAndTheZoneMustMatch() {
    AccessPolicy policy =
        AccessPolicy.compile(
            base()
                .addBindings(
                    binding("team", "reader", "alice")
                        .putLabelSelector("team", "payments")
                        .putLabelSelector("env", "prod")
                        .setZone("eu"))
                .build());
    List<Label> both = List.of(label("env", "prod"), label("team", "payments"));
    assertTrue(policy.check("alice", READ, "k", "eu", both, Map.of()).allowed());
    assertFalse(policy.check("alice", READ, "k", "us", both, Map.of()).allowed(), "zone");
    assertFalse(
        policy
            .check("alice", READ, "k", "eu", List.of(label("team", "payments")), Map.of())
            .allowed(),
        "a selected label missing");
    assertFalse(
        policy
            .check(
                "alice",
                READ,
                "k",
                "eu",
                List.of(label("env", "dev"), label("team", "payments")),
                Map.of())
            .allowed(),
        "a label with another value");
  }

  @Test
  void contextConditions_exactValueOrThePrincipalItself() {
    AccessPolicy policy =
        AccessPolicy.compile(
            base()
                .addBindings(
                    binding("tenant", "crypto", "tenant-*")
                        .addContextConditions(
                            ContextCondition.newBuilder()
                                .setKey("tenant")
                                .setValue("${principal}")))
                .addBindings(
                    binding("fixed", "crypto", "batch")
                        .addContextConditions(
                            ContextCondition.newBuilder().setKey("purpose").setValue("backup")))
                .build());
    assertTrue(
        policy
            .check("tenant-a", DECRYPT, "k", "", List.of(), Map.of("tenant", "tenant-a"))
            .allowed());
    AccessDecision other =
        policy.check("tenant-a", DECRYPT, "k", "", List.of(), Map.of("tenant", "tenant-b"));
    assertFalse(other.allowed());
    assertTrue(other.explanation().contains("encryption context"), other.explanation());
    assertFalse(policy.check("tenant-a", DECRYPT, "k", "", List.of(), Map.of()).allowed());
    assertTrue(
        policy.check("batch", ENCRYPT, "k", "", List.of(), Map.of("purpose", "backup")).allowed());
    assertFalse(
        policy.check("batch", ENCRYPT, "k", "", List.of(), Map.of("purpose", "other")).allowed());
  }

  @Test
  void rules_refuseMalformedPoliciesAndLockouts() {
    assertEquals(java.util.Optional.empty(), PolicyRules.problem(base().build()));
    assertTrue(
        PolicyRules.problem(base().addBindings(binding("x", "missing", "p")).build())
            .orElseThrow()
            .contains("not defined"));
    assertTrue(
        PolicyRules.problem(
                base()
                    .addBindings(binding("x", "reader", "p"))
                    .addBindings(binding("x", "reader", "q"))
                    .build())
            .orElseThrow()
            .contains("twice"));
    assertTrue(
        PolicyRules.problem(
                AuthorizationPolicy.newBuilder()
                    .addRoles(role("reader", READ))
                    .addBindings(binding("r", "reader", "p"))
                    .build())
            .orElseThrow()
            .contains("ADMINISTER"));
    assertTrue(
        PolicyRules.problem(
                base()
                    .addBindings(
                        binding("c", "reader", "p")
                            .addContextConditions(
                                ContextCondition.newBuilder().setKey("t").setValue("v")))
                    .build())
            .orElseThrow()
            .contains("only ENCRYPT and DECRYPT"));
  }
}
