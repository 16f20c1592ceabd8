package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code usage.*} options: blocks of reserved encryptions and the usage rotation's lead. */
class NodeConfigUsageTest {
  @Test
  void defaults_blocksOfAThousandLastingTenSeconds_aMinuteOfLead() throws Exception {
    UsageSettings usage = parse(base()).usage();
    assertEquals(1_000, usage.reservations().minimumBlock());
    assertEquals(Duration.ofSeconds(10), usage.reservations().period());
    assertEquals(Duration.ofMinutes(1), usage.rotationLead());
  }

  @Test
  void explicitValues_parsed() throws Exception {
    Properties p = base();
    p.setProperty("usage.reservation-block", "10");
    p.setProperty("usage.reservation-period", "0s");
    p.setProperty("usage.rotation-lead", "5m");
    UsageSettings usage = parse(p).usage();
    assertEquals(10, usage.reservations().minimumBlock());
    assertEquals(Duration.ZERO, usage.reservations().period());
    assertEquals(Duration.ofMinutes(5), usage.rotationLead());
  }

  @Test
  void badValues_refusedWithTheKeyNamed() {
    for (String[] bad :
        new String[][] {
          {"usage.reservation-block", "0"},
          {"usage.reservation-block", "many"},
          {"usage.reservation-period", "often"},
          {"usage.rotation-lead", "early"}
        }) {
      Properties p = base();
      p.setProperty(bad[0], bad[1]);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), bad[0]);
      assertTrue(e.getMessage().contains(bad[0]), e.getMessage());
    }
  }
}
