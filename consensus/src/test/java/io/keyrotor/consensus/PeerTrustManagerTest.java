package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.consensus.testing.GroupCa;
import io.keyrotor.tls.PemFiles;
import io.keyrotor.tls.ReloadingCredentials;
import io.keyrotor.tls.TlsFiles;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import org.apache.ratis.protocol.ClientId;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Raft port's trust manager and members' client ids, over real certificates. */
class PeerTrustManagerTest {
  private static final Map<String, String> PEERS =
      Map.of("n1", "127.0.0.1:7101", "n2", "127.0.0.1:7102", "n3", "127.0.0.1:7103");

  @TempDir Path root;
  private GroupCa ca;
  private PeerTrustManager trust;

  @BeforeEach
  void setUp() throws Exception {
    ca = GroupCa.create(root.resolve("tls"), "unit test CA");
    ReloadingCredentials n1 =
        ReloadingCredentials.open(ca.issueNode("n1"), GroupCa.CHECK_INTERVAL, Clock.systemUTC());
    trust = new PeerTrustManager(n1.trustManager(), new Membership(PEERS));
  }

  private X509Certificate[] chain(TlsFiles files) throws Exception {
    return PemFiles.readCertificates(files.certificate()).toArray(new X509Certificate[0]);
  }

  /** The check of a server's certificate on a connection dialled to {@code address}. */
  private void checkDialled(X509Certificate[] chain, String address) throws Exception {
    trust.checkServerTrusted(chain, "ECDHE_ECDSA");
    trust.requireMember(chain, trust.memberAt(address));
  }

  @Test
  void member_accepted_asClientAndAsTheServerDialled() throws Exception {
    X509Certificate[] n2 = chain(ca.issueNode("n2"));
    assertDoesNotThrow(() -> trust.checkClientTrusted(n2, "EC", (SSLEngine) null));
    assertDoesNotThrow(() -> checkDialled(n2, PEERS.get("n2")));
  }

  @Test
  void memberCertificate_atAnotherMembersAddress_refused() throws Exception {
    X509Certificate[] n2 = chain(ca.issueNode("n2"));
    CertificateException e =
        assertThrows(CertificateException.class, () -> checkDialled(n2, PEERS.get("n3")));
    assertTrue(e.getMessage().contains("n3"), e.getMessage());
  }

  @Test
  void validCertificates_namingNoMember_refused() throws Exception {
    X509Certificate[] n9 = chain(ca.issueNode("n9"));
    X509Certificate[] admin = chain(ca.issueClient("admin"));
    for (X509Certificate[] outsider : new X509Certificate[][] {n9, admin}) {
      assertThrows(
          CertificateException.class,
          () -> trust.checkClientTrusted(outsider, "EC", (SSLEngine) null));
      assertThrows(CertificateException.class, () -> checkDialled(outsider, "127.0.0.1:7109"));
    }
  }

  @Test
  void anotherCasCertificate_forAMembersId_refused() throws Exception {
    GroupCa other = GroupCa.create(root.resolve("other"), "another CA");
    X509Certificate[] n2 = chain(other.issueNode("n2"));
    assertThrows(
        CertificateException.class, () -> trust.checkClientTrusted(n2, "EC", (SSLEngine) null));
  }

  @Test
  void clientIds_nameTheirNodeOnly_andDifferPerClient() {
    ClientId a = RaftIdentities.clientIdOf("n1");
    ClientId b = RaftIdentities.clientIdOf("n1");
    assertNotEquals(a, b);
    assertTrue(RaftIdentities.names(a, "n1"));
    assertFalse(RaftIdentities.names(a, "n2"));
    assertTrue(RaftIdentities.memberOf(ClientId.randomId(), PEERS.keySet()).isEmpty());
    assertTrue(RaftIdentities.memberOf(b, PEERS.keySet()).orElseThrow().equals("n1"));
  }
}
