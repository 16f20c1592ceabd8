package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The flow-control settings of a node's configuration: watchers, the gRPC port, the HSM queue. */
class NodeConfigFlowTest {
  @Test
  void defaults_boundEverything() throws Exception {
    FlowSettings flow = parse(base()).flow();
    assertEquals(FlowSettings.defaults(), flow);
    assertEquals(256, flow.watchersPerNode());
    assertEquals(16, flow.watchersPerPrincipal());
    assertEquals(10_000, flow.watcherMaxLag());
    assertEquals(1_000, flow.maxConcurrentCallsPerConnection());
    assertEquals(4 << 20, flow.maxInboundMessageBytes());
    assertEquals(8 << 10, flow.maxInboundMetadataBytes());
    assertEquals(Duration.ofSeconds(10), flow.permitKeepAliveTime());
    assertEquals(Duration.ZERO, flow.maxConnectionAge());
    assertEquals(256, flow.hsmQueueCapacity());
  }

  @Test
  void explicitValues_parsed() throws Exception {
    Properties p = base();
    p.setProperty("limits.watchers-per-node", "64");
    p.setProperty("limits.watchers-per-principal", "4");
    p.setProperty("limits.watcher-max-lag", "500");
    p.setProperty("grpc.max-concurrent-calls-per-connection", "100");
    p.setProperty("grpc.max-inbound-message-size", "1MiB");
    p.setProperty("grpc.max-inbound-metadata-size", "16KiB");
    p.setProperty("grpc.keepalive-time", "2m");
    p.setProperty("grpc.keepalive-timeout", "10s");
    p.setProperty("grpc.keepalive-permit-time", "30s");
    p.setProperty("grpc.keepalive-permit-without-calls", "false");
    p.setProperty("grpc.max-connection-idle", "0s");
    p.setProperty("grpc.max-connection-age", "1h");
    p.setProperty("grpc.max-connection-age-grace", "1m");
    p.setProperty("hsm.queue-capacity", "32");
    FlowSettings flow = parse(p).flow();
    assertEquals(
        new FlowSettings(
            64,
            4,
            500,
            100,
            1 << 20,
            16 << 10,
            Duration.ofMinutes(2),
            Duration.ofSeconds(10),
            Duration.ofSeconds(30),
            false,
            Duration.ZERO,
            Duration.ofHours(1),
            Duration.ofMinutes(1),
            32),
        flow);
  }

  @Test
  void perPrincipalAboveThePerNodeBound_isThePerNodeBound() throws Exception {
    Properties p = base();
    p.setProperty("limits.watchers-per-node", "8");
    p.setProperty("limits.watchers-per-principal", "50");
    assertEquals(8, parse(p).flow().watchersPerPrincipal());
  }

  @Test
  void badValues_refusedWithTheKeyNamed() {
    for (String[] bad :
        new String[][] {
          {"limits.watchers-per-node", "0"},
          {"limits.watchers-per-principal", "many"},
          {"limits.watcher-max-lag", "-1"},
          {"grpc.max-concurrent-calls-per-connection", "0"},
          {"grpc.max-inbound-message-size", "4GB"},
          {"grpc.max-inbound-message-size", "100"},
          {"grpc.max-inbound-metadata-size", "lots"},
          {"grpc.keepalive-time", "0s"},
          {"grpc.keepalive-permit-time", "soon"},
          {"grpc.keepalive-permit-without-calls", "yes"},
          {"grpc.max-connection-age", "forever"},
          {"hsm.queue-capacity", "0"}
        }) {
      Properties p = base();
      p.setProperty(bad[0], bad[1]);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), bad[0]);
      assertTrue(e.getMessage().contains(bad[0]), e.getMessage());
    }
  }
}
