package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.tls.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The transport security settings of a node's configuration. */
class NodeConfigTlsTest {
  private static Properties withoutTls() {
    Properties p = base();
    p.remove("tls.certificate");
    p.remove("tls.private-key");
    p.remove("tls.ca");
    return p;
  }

  @Test
  void tlsFiles_resolvedAgainstTheConfigDirectory_defaultIntervals() throws Exception {
    TlsSettings tls = parse(base()).tls();
    assertFalse(tls.insecure());
    assertEquals(
        Optional.of(
            new TlsFiles(
                Path.of("/etc/keyrotor/tls/n1.pem"),
                Path.of("/etc/keyrotor/tls/n1-key.pem"),
                Path.of("/etc/keyrotor/tls/ca.pem"))),
        tls.files());
    assertEquals(Duration.ofSeconds(10), tls.reloadInterval());
    assertEquals(Duration.ofDays(30), tls.expiryWarning());
  }

  @Test
  void intervals_configurable() throws Exception {
    Properties p = base();
    p.setProperty("tls.reload-interval", "2s");
    p.setProperty("tls.expiry-warning", "7d");
    TlsSettings tls = parse(p).tls();
    assertEquals(Duration.ofSeconds(2), tls.reloadInterval());
    assertEquals(Duration.ofDays(7), tls.expiryWarning());
  }

  @Test
  void neitherFilesNorInsecure_refusedSayingWhatToAdd() {
    ConfigException e = assertThrows(ConfigException.class, () -> parse(withoutTls()));
    assertTrue(e.getMessage().contains("no transport security configured"), e.getMessage());
    assertTrue(
        e.getMessage().contains("set tls.certificate, tls.private-key and tls.ca"), e.getMessage());
    assertTrue(e.getMessage().contains("tls.insecure=true"), e.getMessage());
  }

  @Test
  void someFilesMissing_refusedNamingThem() {
    Properties p = base();
    p.remove("tls.ca");
    ConfigException e = assertThrows(ConfigException.class, () -> parse(p));
    assertTrue(e.getMessage().contains("[tls.ca] missing"), e.getMessage());
  }

  @Test
  void insecureOnLoopback_accepted() throws Exception {
    for (String host : new String[] {"127.0.0.1", "127.0.0.2", "localhost", "[::1]"}) {
      Properties p = withoutTls();
      p.setProperty("tls.insecure", "true");
      p.setProperty("peer.n1.raft", host + ":7201");
      p.setProperty("peer.n1.api", host + ":7101");
      TlsSettings tls = parse(p).tls();
      assertTrue(tls.insecure(), host);
      assertTrue(tls.files().isEmpty(), host);
    }
  }

  @Test
  void insecureOnNonLoopbackAddress_refused() {
    for (String[] address :
        new String[][] {
          {"peer.n1.api", "10.0.0.1:7101"},
          {"peer.n1.raft", "0.0.0.0:7201"},
          {"peer.n1.api", "keyrotor-1.example.org:7101"},
          {"peer.n2.raft", "10.0.0.2:7202"},
        }) {
      Properties p = withoutTls();
      p.setProperty("tls.insecure", "true");
      p.setProperty("peer.n2.raft", "127.0.0.1:7202");
      p.setProperty("peer.n2.api", "127.0.0.1:7102");
      p.setProperty(address[0], address[1]);
      ConfigException e = assertThrows(ConfigException.class, () -> parse(p), address[1]);
      assertTrue(
          e.getMessage().contains("tls.insecure=true is refused because " + address[1] + " (peer "),
          e.getMessage());
      assertTrue(e.getMessage().contains("is not a loopback address"), e.getMessage());
    }
  }

  @Test
  void insecureWithFiles_refused() {
    Properties p = base();
    p.setProperty("tls.insecure", "true");
    ConfigException e = assertThrows(ConfigException.class, () -> parse(p));
    assertTrue(e.getMessage().contains("contradict"), e.getMessage());
  }

  @Test
  void insecureNotABoolean_refused() {
    Properties p = withoutTls();
    p.setProperty("tls.insecure", "yes");
    ConfigException e = assertThrows(ConfigException.class, () -> parse(p));
    assertTrue(e.getMessage().contains("tls.insecure must be true or false"), e.getMessage());
  }
}
