package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** {@code bind.host}: where the ports listen, apart from the addresses the peers dial. */
class NodeConfigBindHostTest {
  @Test
  void absent_listensOnTheNodesOwnPeerAddress() throws Exception {
    NodeConfig config = parse(base());
    assertEquals(Optional.empty(), config.bindHost());
    assertEquals("127.0.0.1:7101", config.apiListenAddress());
  }

  @Test
  void wildcard_listensOnEveryInterface_atTheNodesOwnPorts_peersUnchanged() throws Exception {
    Properties p = base();
    p.setProperty("peer.n1.raft", "10.213.7.11:7201");
    p.setProperty("peer.n1.api", "10.213.7.11:7101");
    p.setProperty("bind.host", "0.0.0.0");
    NodeConfig config = parse(p);
    assertEquals(Optional.of("0.0.0.0"), config.bindHost());
    assertEquals("0.0.0.0:7101", config.apiListenAddress());
    assertEquals("10.213.7.11:7101", config.apiAddress());
    assertEquals("10.213.7.11:7201", config.raftPeers().get("n1"));
  }

  @Test
  void notAnIpv4Literal_refused() {
    for (String bad :
        new String[] {"localhost", "0.0.0", "256.0.0.1", "::", "0.0.0.0:7101", "0.0.0.0 x"}) {
      Properties p = base();
      p.setProperty("bind.host", bad);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), bad);
      assertTrue(e.getMessage().contains("bind.host must be an IPv4 literal"), e.getMessage());
    }
  }

  @Test
  void plaintext_listensOnLoopbackOnly() throws Exception {
    Properties p = base();
    p.remove("tls.certificate");
    p.remove("tls.private-key");
    p.remove("tls.ca");
    p.setProperty("tls.insecure", "true");
    p.setProperty("bind.host", "127.0.0.1");
    assertEquals("127.0.0.1:7101", parse(p).apiListenAddress());
    p.setProperty("bind.host", "0.0.0.0");
    ConfigException e = assertThrows(ConfigException.class, () -> parse(p));
    assertTrue(e.getMessage().contains("refused with tls.insecure=true"), e.getMessage());
  }
}
