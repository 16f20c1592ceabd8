package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Permission;
import org.junit.jupiter.api.Test;

/** The policy file format: what {@code policy get --json} prints, {@code policy set} reads. */
class PolicyCommandTest {
  private static final String FILE =
      """
      {"version": 3,
       "roles": [{"name": "crypto", "permissions": ["ENCRYPT", "decrypt"]},
                 {"name": "admin", "permissions": ["ADMINISTER"]}],
       "bindings": [
         {"name": "ops", "role": "admin", "principal": "admin"},
         {"name": "payments", "role": "crypto", "principal": "spiffe://x/payments",
          "key_pattern": "payments-*", "zone": "eu", "labels": {"team": "payments"},
          "context": {"tenant": "${principal}"}}],
       "quotas": [
         {"name": "services", "principal": "spiffe://x/*", "permissions": ["ENCRYPT", "decrypt"],
          "requests_per_second": 250.5, "burst": 500},
         {"name": "everyone", "principal": "*", "requests_per_second": 1000}]}
      """;

  @Test
  void parse_readsEveryFieldAndTheVersionToCompareAgainst() {
    AuthorizationPolicy policy =
        PolicyCommand.parse(JsonParser.parseString(FILE).getAsJsonObject());
    assertEquals(3, policy.getVersion());
    assertEquals(Permission.PERMISSION_DECRYPT, policy.getRoles(0).getPermissions(1));
    var payments = policy.getBindings(1);
    assertEquals("payments-*", payments.getKeyPattern());
    assertEquals("eu", payments.getZone());
    assertEquals("payments", payments.getLabelSelectorMap().get("team"));
    assertEquals("${principal}", payments.getContextConditions(0).getValue());
    var services = policy.getQuotas(0);
    assertEquals("spiffe://x/*", services.getPrincipal());
    assertEquals(Permission.PERMISSION_DECRYPT, services.getPermissions(1));
    assertEquals(250.5, services.getRequestsPerSecond());
    assertEquals(500, services.getBurst());
    assertEquals(0, policy.getQuotas(1).getPermissionsCount());
  }

  @Test
  void json_roundTripsThroughParse() {
    AuthorizationPolicy policy =
        PolicyCommand.parse(JsonParser.parseString(FILE).getAsJsonObject());
    JsonObject printed = PolicyCommand.json(policy);
    assertEquals(policy, PolicyCommand.parse(printed));
    assertTrue(
        PolicyCommand.human(policy)
            .contains("payments: spiffe://x/payments -> crypto on payments-*"));
    assertTrue(
        PolicyCommand.human(policy)
            .contains("services: spiffe://x/* 250.5/s burst 500 on ENCRYPT, DECRYPT\n"),
        PolicyCommand.human(policy));
    assertTrue(PolicyCommand.human(policy).contains("everyone: * 1000.0/s on every call\n"));
  }

  @Test
  void unknownPermission_refusedWithItsName() {
    CliException e =
        assertThrows(
            CliException.class,
            () ->
                PolicyCommand.parse(
                    JsonParser.parseString(
                            "{\"roles\":[{\"name\":\"r\",\"permissions\":[\"FLY\"]}]}")
                        .getAsJsonObject()));
    assertTrue(e.getMessage().contains("FLY"), e.getMessage());
  }

  @Test
  void wrongShape_refusedAsAMalformedPolicyFile() {
    CliException e =
        assertThrows(
            CliException.class,
            () ->
                PolicyCommand.parse(
                    JsonParser.parseString("{\"roles\":{\"name\":\"r\"}}").getAsJsonObject()));
    assertTrue(e.getMessage().startsWith("malformed policy file: "), e.getMessage());
  }
}
