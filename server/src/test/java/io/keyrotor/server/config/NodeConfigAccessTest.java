package io.keyrotor.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.storage.access.AccessPolicy;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The access.* and chaos.* settings: the bootstrap policy and the test-cluster flag. */
class NodeConfigAccessTest {
  @Test
  void noBootstrapAdmins_noBootstrapPolicy_chaosOff() throws Exception {
    NodeConfig config = MinimalNodeConfig.parse(MinimalNodeConfig.base());
    assertEquals(AuthorizationPolicy.getDefaultInstance(), config.bootstrapPolicy());
    assertFalse(config.chaosMode());
    assertFalse(config.chaosTestCluster());
  }

  @Test
  void developmentPolicy_adminEverything_serviceDataPlaneOnly() throws Exception {
    Properties p = MinimalNodeConfig.base();
    p.setProperty("access.bootstrap-admins", "admin");
    p.setProperty("access.bootstrap-role.data-plane", "READ_KEYS, ENCRYPT,DECRYPT");
    p.setProperty("access.bootstrap-binding.service", "data-plane");
    AccessPolicy policy =
        AccessPolicy.compile(
            MinimalNodeConfig.parse(p).bootstrapPolicy().toBuilder().setVersion(1).build());
    assertTrue(policy.checkCluster("admin", Permission.PERMISSION_ADMINISTER).allowed());
    assertTrue(policy.checkCluster("service", Permission.PERMISSION_DECRYPT).allowed());
    assertTrue(policy.checkCluster("service", Permission.PERMISSION_READ_KEYS).allowed());
    assertFalse(policy.checkCluster("service", Permission.PERMISSION_ROTATE_KEYS).allowed());
    assertFalse(policy.checkCluster("service", Permission.PERMISSION_ADMINISTER).allowed());
  }

  @Test
  void badAccessSettings_refusedWithTheKey() {
    Properties unknownPermission = MinimalNodeConfig.base();
    unknownPermission.setProperty("access.bootstrap-admins", "admin");
    unknownPermission.setProperty("access.bootstrap-role.r", "FLY");
    ConfigException e =
        assertThrows(ConfigException.class, () -> MinimalNodeConfig.parse(unknownPermission));
    assertTrue(e.getMessage().contains("FLY"), e.getMessage());

    Properties unknownRole = MinimalNodeConfig.base();
    unknownRole.setProperty("access.bootstrap-admins", "admin");
    unknownRole.setProperty("access.bootstrap-binding.service", "missing");
    e = assertThrows(ConfigException.class, () -> MinimalNodeConfig.parse(unknownRole));
    assertTrue(e.getMessage().contains("missing"), e.getMessage());

    Properties typo = MinimalNodeConfig.base();
    typo.setProperty("access.bootstrap-admin", "admin");
    e = assertThrows(ConfigException.class, () -> MinimalNodeConfig.parse(typo));
    assertTrue(e.getMessage().contains("access.bootstrap-admin"), e.getMessage());
  }
}
