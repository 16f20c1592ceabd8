package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.server.config.LimitSettings.Limit;
import io.keyrotor.storage.Limits;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The limits.* settings of a node's configuration. */
class NodeConfigLimitsTest {
  @Test
  void defaults_boundEverythingAndStayWithinTheCeilings() throws Exception {
    LimitSettings limits = parse(base()).limits();
    assertEquals(LimitSettings.defaults(), limits);
    assertEquals(100_000, limits.get(Limit.KEYS_PER_CLUSTER));
    assertEquals(100_000, limits.get(Limit.KEYS_PER_ZONE));
    assertEquals(1_000, limits.get(Limit.VERSIONS_PER_KEY));
    assertEquals(128, limits.get(Limit.NAME_BYTES));
    assertEquals(64, limits.get(Limit.LABELS_PER_KEY));
    assertEquals(256, limits.get(Limit.LABEL_VALUE_BYTES));
    assertEquals(256, limits.get(Limit.REASON_BYTES));
    assertEquals(256, limits.get(Limit.DEPENDENTS_PER_KEY));
    assertEquals(8_192, limits.get(Limit.CONTEXT_BYTES));
    assertEquals(1_000, limits.get(Limit.BATCH_ITEMS));
    for (Limit limit : Limit.values()) {
      assertTrue(limit.defaultValue() <= limit.ceiling(), limit.setting());
    }
    // What apply enforces is the ceiling of the settings the server checks first.
    assertEquals(Limits.CEILINGS.keysPerCluster(), Limit.KEYS_PER_CLUSTER.ceiling());
    assertEquals(Limits.CEILINGS.keysPerZone(), Limit.KEYS_PER_ZONE.ceiling());
    assertEquals(Limits.CEILINGS.versionsPerKey(), Limit.VERSIONS_PER_KEY.ceiling());
    assertEquals(Limits.CEILINGS.reasonBytes(), Limit.REASON_BYTES.ceiling());
  }

  @Test
  void explicitValues_parsed() throws Exception {
    Properties p = base();
    p.setProperty("limits.keys-per-cluster", "5000");
    p.setProperty("limits.keys-per-zone", "1_000");
    p.setProperty("limits.batch-items", "10000");
    LimitSettings limits = parse(p).limits();
    assertEquals(5_000, limits.get(Limit.KEYS_PER_CLUSTER));
    assertEquals(1_000, limits.get(Limit.KEYS_PER_ZONE));
    assertEquals(10_000, limits.get(Limit.BATCH_ITEMS));
    assertEquals(1_000, limits.get(Limit.VERSIONS_PER_KEY));
  }

  @Test
  void watcherLimits_sitBesideTheOtherLimits() throws Exception {
    Properties p = base();
    p.setProperty("limits.keys-per-cluster", "5000");
    p.setProperty("limits.watchers-per-node", "64");
    p.setProperty("limits.watchers-per-principal", "4");
    p.setProperty("limits.watcher-max-lag", "500");
    NodeConfig config = parse(p);
    assertEquals(5_000, config.limits().get(Limit.KEYS_PER_CLUSTER));
    assertEquals(64, config.flow().watchersPerNode());
    assertEquals(4, config.flow().watchersPerPrincipal());
    assertEquals(500, config.flow().watcherMaxLag());
  }

  @Test
  void badValues_refusedWithTheKeyNamed() {
    for (String[] bad :
        new String[][] {
          {"limits.keys-per-cluster", "0"},
          {"limits.keys-per-cluster", "1000001"},
          {"limits.versions-per-key", "10001"},
          {"limits.name-bytes", "129"},
          {"limits.context-bytes", "many"},
          {"limits.reason-bytes", "-1"},
          {"limits.keys-per-clutser", "10"}
        }) {
      Properties p = base();
      p.setProperty(bad[0], bad[1]);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), bad[0]);
      assertTrue(e.getMessage().contains(bad[0]), e.getMessage());
    }
  }
}
