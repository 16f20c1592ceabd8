package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The rotation.* and keys.destroy-* settings of the rotation engine. */
class RotationSettingsTest {
  @Test
  void absent_theDefaults() throws Exception {
    assertEquals(RotationSettings.defaults(), parse(base()).rotation());
    assertEquals(Duration.ofMillis(250), RotationSettings.defaults().schedulerInterval());
  }

  @Test
  void given_read() throws Exception {
    Properties p = base();
    p.setProperty("rotation.scheduler-interval", "1s");
    p.setProperty("rotation.minimum-period", "10m");
    p.setProperty("keys.destroy-default-wait", "7d");
    p.setProperty("keys.destroy-minimum-wait", "1h");
    assertEquals(
        new RotationSettings(
            Duration.ofSeconds(1), Duration.ofMinutes(10), Duration.ofDays(7), Duration.ofHours(1)),
        parse(p).rotation());
  }

  @Test
  void notADuration_refusedNamingTheKey() {
    Properties p = base();
    p.setProperty("rotation.minimum-period", "soon");
    assertEquals(
        "test.properties: rotation.minimum-period: not a duration: \"soon\" (use e.g. 500ms, 30s,"
            + " 5m, 2h, 90d)",
        assertThrows(ConfigException.class, () -> parse(p)).getMessage());
  }
}
