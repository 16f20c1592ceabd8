package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.storage.version.ClusterVersion;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code upgrade.*} options: the supported cluster version cap and the check interval. */
class NodeConfigUpgradeTest {
  @Test
  void defaults_theBinarysVersionChecked5sApart() throws Exception {
    UpgradeSettings upgrade = parse(base()).upgrade();
    assertEquals(ClusterVersion.SUPPORTED, upgrade.maxSupportedVersion());
    assertEquals(Duration.ofSeconds(5), upgrade.checkInterval());
  }

  @Test
  void aCapBelowTheBinarys_actsAsAnOlderBinary() throws Exception {
    Properties p = base();
    p.setProperty("upgrade.max-supported-version", "1");
    p.setProperty("upgrade.check-interval", "200ms");
    UpgradeSettings upgrade = parse(p).upgrade();
    assertEquals(1, upgrade.maxSupportedVersion());
    assertEquals(Duration.ofMillis(200), upgrade.checkInterval());
  }

  @Test
  void versionsThisBinaryCannotApply_refusedWithTheKeyNamed() {
    for (String bad :
        new String[] {"0", String.valueOf(ClusterVersion.SUPPORTED + 1), "two", "-1"}) {
      Properties p = base();
      p.setProperty("upgrade.max-supported-version", bad);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), bad);
      assertTrue(e.getMessage().contains("upgrade.max-supported-version"), e.getMessage());
    }
  }
}
