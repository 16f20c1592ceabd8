package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.consensus.GroupCommitConfig;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code group-commit.*} options: how concurrent writes share log entries. */
class NodeConfigGroupCommitTest {
  @Test
  void defaults_onWithBoundedBatches() throws Exception {
    assertEquals(GroupCommitConfig.defaults(), parse(base()).groupCommit().config());
    assertTrue(parse(base()).groupCommit().config().enabled());
  }

  @Test
  void explicitValues_taken() throws Exception {
    Properties p = base();
    p.setProperty("group-commit.enabled", "false");
    p.setProperty("group-commit.max-commands", "32");
    p.setProperty("group-commit.max-bytes", "64k");
    p.setProperty("group-commit.max-in-flight", "2");
    GroupCommitConfig config = parse(p).groupCommit().config();
    assertFalse(config.enabled());
    assertEquals(32, config.maxCommands());
    assertEquals(64 << 10, config.maxBytes());
    assertEquals(2, config.maxInFlight());
  }

  @Test
  void valuesOutOfBounds_refusedWithTheKeyNamed() {
    String[][] bad = {
      {"group-commit.enabled", "yes"},
      {"group-commit.max-commands", "0"},
      {"group-commit.max-commands", "5000"},
      {"group-commit.max-commands", "many"},
      {"group-commit.max-bytes", "1k"},
      {"group-commit.max-bytes", "1g"},
      {"group-commit.max-in-flight", "0"},
      {"group-commit.max-in-flight", "17"},
    };
    for (String[] setting : bad) {
      Properties p = base();
      p.setProperty(setting[0], setting[1]);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), setting[1]);
      assertTrue(e.getMessage().contains(setting[0]), setting[0] + ": " + e.getMessage());
    }
  }
}
