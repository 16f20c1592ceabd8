package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The {@code audit.*} options, which two settings classes share: the replicated chain's signed
 * checkpoints ({@link AuditSettings}) and the data audit stream with its sinks ({@link
 * DataAuditSettings}). Each reads its own keys and lets the other's through.
 */
class NodeConfigAuditTest {
  @Test
  void bothStreamsSettings_inOneFile_eachReadByItsOwner() throws Exception {
    Properties p = base();
    p.setProperty("audit.checkpoint-interval", "30s");
    p.setProperty("audit.data.failure-mode", "open");
    p.setProperty("audit.data.head-interval", "2s");

    NodeConfig config = parse(p);

    assertEquals(Duration.ofSeconds(30), config.audit().checkpointInterval());
    assertFalse(config.dataAudit().failClosed());
    assertEquals(Duration.ofSeconds(2), config.dataAudit().headInterval());
  }

  @Test
  void anUnknownAuditKey_isRefusedWithTheKeyNamed() {
    Properties p = base();
    p.setProperty("audit.checkpoint-intervall", "30s");

    ConfigException e = assertThrows(ConfigException.class, () -> parse(p));

    assertTrue(e.getMessage().contains("audit.checkpoint-intervall"), e.getMessage());
  }

  @Test
  void dataAuditOff_acceptedOnLoopbackOnly() throws Exception {
    Properties p = base();
    assertTrue(parse(p).dataAudit().enabled());
    p.setProperty("audit.data.enabled", "false");

    assertFalse(parse(p).dataAudit().enabled());

    p.setProperty("peer.n2.raft", "10.0.0.2:7201");
    p.setProperty("peer.n2.api", "10.0.0.2:7101");
    ConfigException refused = assertThrows(ConfigException.class, () -> parse(p));
    assertTrue(refused.getMessage().contains("audit.data.enabled=false"), refused.getMessage());
    assertTrue(refused.getMessage().contains("10.0.0.2"), refused.getMessage());
  }

  @Test
  void dataAuditEnabled_notABoolean_isRefused() {
    Properties p = base();
    p.setProperty("audit.data.enabled", "no");

    ConfigException e = assertThrows(ConfigException.class, () -> parse(p));

    assertTrue(e.getMessage().contains("audit.data.enabled"), e.getMessage());
  }

  @Test
  void dataAuditWriting_defaultsAndBounds() throws Exception {
    Properties p = base();
    assertEquals(64L << 20, parse(p).dataAudit().preallocateBytes());
    assertEquals(2, parse(p).dataAudit().syncThreads());

    p.setProperty("audit.data.preallocate-bytes", "8m");
    p.setProperty("audit.data.sync-threads", "1");
    assertEquals(8L << 20, parse(p).dataAudit().preallocateBytes());
    assertEquals(1, parse(p).dataAudit().syncThreads());
    p.setProperty("audit.data.preallocate-bytes", "0");
    assertEquals(0, parse(p).dataAudit().preallocateBytes());

    for (String bad : List.of("-1", "2g", "lots")) {
      p.setProperty("audit.data.preallocate-bytes", bad);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p));
      assertTrue(e.getMessage().contains("audit.data.preallocate-bytes"), e.getMessage());
    }
    p.setProperty("audit.data.preallocate-bytes", "64m");
    for (String bad : List.of("0", "5", "two")) {
      p.setProperty("audit.data.sync-threads", bad);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p));
      assertTrue(e.getMessage().contains("audit.data.sync-threads"), e.getMessage());
    }
  }
}
