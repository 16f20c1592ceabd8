package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.server.dataplane.ReadGate;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The data-plane options of a node's configuration. */
class NodeConfigDataPlaneTest {
  @Test
  void defaults_redirectAndABoundedCache() throws Exception {
    DataPlaneSettings settings = parse(base()).dataPlane();
    assertEquals(ReadGate.FollowerReads.REDIRECT, settings.followerReads());
    assertEquals(10_000, settings.kekCacheMaxEntries());
    assertEquals(Duration.ofMinutes(15), settings.kekCacheIdleTimeout());
  }

  @Test
  void explicitValues_parsed() throws Exception {
    Properties p = base();
    p.setProperty("reads.follower", "read-index");
    p.setProperty("kek-cache.max-entries", "500");
    p.setProperty("kek-cache.idle-timeout", "90s");
    DataPlaneSettings settings = parse(p).dataPlane();
    assertEquals(ReadGate.FollowerReads.READ_INDEX, settings.followerReads());
    assertEquals(500, settings.kekCacheMaxEntries());
    assertEquals(Duration.ofSeconds(90), settings.kekCacheIdleTimeout());
  }

  @Test
  void badValues_refusedWithTheKeyNamed() {
    for (String[] bad :
        new String[][] {
          {"reads.follower", "sometimes"},
          {"kek-cache.max-entries", "0"},
          {"kek-cache.max-entries", "lots"},
          {"kek-cache.idle-timeout", "0s"},
          {"kek-cache.idle-timeout", "soon"}
        }) {
      Properties p = base();
      p.setProperty(bad[0], bad[1]);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), bad[0]);
      assertTrue(e.getMessage().contains(bad[0]), e.getMessage());
    }
  }
}
