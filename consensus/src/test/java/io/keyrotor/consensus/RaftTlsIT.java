package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.await;
import static io.keyrotor.consensus.TestCluster.createKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.consensus.testing.GroupCa;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.tls.PemFiles;
import io.keyrotor.tls.ReloadingCredentials;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Raft port with mutual TLS (real certificates from a development CA, real Ratis over loopback
 * sockets): the group commits; a Ratis client that is not a member's proposer cannot append,
 * whatever certificate it shows.
 */
class RaftTlsIT {
  @TempDir Path root;
  private TestCluster cluster;
  private GroupCa ca;

  @AfterEach
  void tearDown() {
    TestCluster.closeAndCheck(cluster);
  }

  private TestCluster tlsCluster() throws Exception {
    ca = GroupCa.create(root.resolve("tls"), "raft test CA");
    cluster = new TestCluster(root, 3, c -> c.withTransport(ca.transport(c.nodeId())));
    cluster.startAll();
    return cluster;
  }

  @Test
  void mutualTls_groupCommitsForwardsAndTransfersLeadership() throws Exception {
    TestCluster c = tlsCluster();
    for (int i = 0; i < 10; i++) {
      CommandResult result = await(c.leader().propose(createKey("key-" + i)));
      assertEquals(Code.OK_VALUE, result.getOutcome().getCode());
    }
    // A follower forwards to the leader over the mutually authenticated Raft port.
    RaftNode follower = c.followers().get(0);
    assertEquals(
        Code.OK_VALUE, await(follower.propose(createKey("forwarded"))).getOutcome().getCode());
    // The admin protocol between members works too.
    String target = follower.nodeId();
    c.leader().transferLeadership(target, 10_000);
    TestCluster.waitUntil(
        () -> c.nodes.get(target).isReadyLeader(), Duration.ofSeconds(20), "leadership moved");
    assertEquals(
        Code.OK_VALUE,
        await(c.leader().propose(createKey("after-transfer"))).getOutcome().getCode());
    c.awaitConvergence();
    for (RaftNode node : c.nodes.values()) {
      assertEquals(12, node.state().keyCount(), node.nodeId());
    }
  }

  @Test
  void ratisClientOnTheRaftPort_withoutAMembersIdentity_cannotAppend() throws Exception {
    TestCluster c = tlsCluster();
    await(c.leader().propose(createKey("before")));
    c.awaitConvergence();
    Map<String, Long> before = commitIndexes(c);
    TlsFiles admin = ca.issueClient("admin");
    TlsFiles outsider = ca.issueNode("n9");
    GroupCa other = GroupCa.create(root.resolve("other-ca"), "another CA");
    TlsFiles otherNode = other.issueNode("n1");
    TlsFiles member = ca.nodeFiles("n2");
    // What each client trusts: this group's CA, so that only the server can refuse.
    Path groupCaFile = member.trustedCertificates();

    Map<String, GrpcTlsConfig> outsiders = new TreeMap<>();
    outsiders.put(
        "no certificate", new GrpcTlsConfig(null, credentials(member).trustManager(), false));
    outsiders.put(
        "another CA's certificate for a member's id",
        tls(new TlsFiles(otherNode.certificate(), otherNode.privateKey(), groupCaFile)));
    outsiders.put("a caller's certificate (CN=admin)", tls(admin));
    outsiders.put("a node certificate for n9, not a member", tls(outsider));
    for (Map.Entry<String, GrpcTlsConfig> attempt : outsiders.entrySet()) {
      try (RaftClient client = client(c, attempt.getValue(), ClientId.randomId())) {
        IOException e =
            assertThrows(
                IOException.class,
                () -> client.io().send(message("outsider")),
                attempt.getKey() + " must not append");
        assertTrue(
            chain(e).contains("ssl exception"),
            () -> attempt.getKey() + ": refused in the TLS handshake, but " + chain(e));
      }
    }
    try (RaftClient plaintext = client(c, null, ClientId.randomId())) {
      assertThrows(IOException.class, () -> plaintext.io().send(message("outsider")), "plaintext");
    }
    // A member's certificate with a client id that is not the member's: refused on the port.
    for (ClientId notN2s : new ClientId[] {ClientId.randomId(), RaftIdentities.clientIdOf("n1")}) {
      try (RaftClient impostor = client(c, tls(member), notN2s)) {
        IOException e =
            assertThrows(IOException.class, () -> impostor.io().send(message("impostor")));
        assertTrue(
            chain(e).contains("PERMISSION_DENIED"),
            () -> "refused by the peer binding, but " + chain(e));
      }
    }
    assertEquals(before, commitIndexes(c), "nothing reached any log");
    for (RaftNode node : c.nodes.values()) {
      assertEquals(1, node.state().keyCount(), node.nodeId());
    }

    // Positive control: the same client, as n2's proposer with n2's certificate, appends.
    try (RaftClient asMember = client(c, tls(member), RaftIdentities.clientIdOf("n2"))) {
      RaftClientReply reply = asMember.io().send(message("member"));
      assertTrue(reply.isSuccess(), reply::toString);
    }
    c.awaitConvergence();
    for (RaftNode node : c.nodes.values()) {
      assertTrue(node.state().key("member").isPresent(), node.nodeId());
    }
  }

  @Test
  void insecureLoopback_stateMachineRefusesACommandFromAnyoneButAMembersProposer()
      throws Exception {
    cluster = new TestCluster(root, 3, c -> c);
    cluster.startAll();
    await(cluster.leader().propose(createKey("before")));
    cluster.awaitConvergence();
    Map<String, Long> before = commitIndexes(cluster);

    try (RaftClient foreign = client(cluster, null, ClientId.randomId())) {
      IOException refused =
          assertThrows(IOException.class, () -> foreign.io().send(message("foreign")));
      assertTrue(
          String.valueOf(RaftRequests.rootMessage(refused)).contains("not the proposer"),
          () -> "refused by the state machine: " + refused);
    }
    assertEquals(before, commitIndexes(cluster), "nothing reached any log");
    for (RaftNode node : cluster.nodes.values()) {
      assertFalse(node.state().key("foreign").isPresent(), node.nodeId());
    }
  }

  @Test
  void rotatedCertificate_servesNewConnections_whileTheGroupKeepsCommitting() throws Exception {
    TestCluster c = tlsCluster();
    c.leader();
    X509Certificate before = presentedBy(c, "n1");
    assertEquals(PemFiles.readCertificates(ca.nodeFiles("n1").certificate()).get(0), before);

    // A steady stream of proposals through every node in turn, while n1's files change; it goes
    // on for 30 proposals after the new certificate was seen (at most 2,000 in all).
    int limit = 2_000;
    List<String> nodeIds = List.copyOf(c.nodes.keySet());
    AtomicInteger committed = new AtomicInteger();
    AtomicInteger rotatedAt = new AtomicInteger(-1);
    CompletableFuture<Void> stream =
        CompletableFuture.runAsync(
            () -> {
              for (int i = 0; i < limit; i++) {
                int seen = rotatedAt.get();
                if (seen >= 0 && i >= seen + 30) {
                  return;
                }
                RaftNode node = c.nodes.get(nodeIds.get(i % nodeIds.size()));
                CommandResult result = await(node.propose(createKey("stream-" + i)));
                assertEquals(Code.OK_VALUE, result.getOutcome().getCode(), "proposal " + i);
                committed.incrementAndGet();
              }
            });
    TestCluster.waitUntil(
        () -> committed.get() >= 20, Duration.ofSeconds(30), "the stream under way");
    ca.issueNode("n1");
    X509Certificate rotated = PemFiles.readCertificates(ca.nodeFiles("n1").certificate()).get(0);
    assertFalse(rotated.equals(before));
    TestCluster.waitUntil(
        () -> rotated.equals(presentedBy(c, "n1")),
        Duration.ofSeconds(10),
        "n1 presenting its new certificate to a new connection");
    rotatedAt.set(committed.get());
    stream.get(120, TimeUnit.SECONDS);
    int total = committed.get();
    assertTrue(rotatedAt.get() < limit, "rotated while the stream was running");
    assertEquals(rotatedAt.get() + 30, total, "no proposal failed, before or after the rotation");
    // The group still commits, through every node, after the rotation.
    for (String id : nodeIds) {
      await(c.nodes.get(id).propose(createKey("after-" + id)));
    }
    c.awaitConvergence();
    for (RaftNode node : c.nodes.values()) {
      assertEquals(total + nodeIds.size(), node.state().keyCount(), node.nodeId());
    }
  }

  /**
   * The certificate node {@code nodeId} presents to a new TLS connection on its Raft port (made
   * with member n2's certificate, as a peer would).
   */
  private X509Certificate presentedBy(TestCluster c, String nodeId) {
    try {
      ReloadingCredentials n2 = credentials(ca.nodeFiles("n2"));
      X509Certificate[] seen = new X509Certificate[1];
      X509ExtendedTrustManager recording =
          new X509ExtendedTrustManager() {
            private final X509ExtendedTrustManager ca = n2.trustManager();

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket s)
                throws CertificateException {
              ca.checkServerTrusted(chain, authType, s);
              seen[0] = chain[0];
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine e)
                throws CertificateException {
              ca.checkServerTrusted(chain, authType, e);
              seen[0] = chain[0];
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
              ca.checkServerTrusted(chain, authType);
              seen[0] = chain[0];
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket s)
                throws CertificateException {
              throw new CertificateException("client side only");
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine e)
                throws CertificateException {
              throw new CertificateException("client side only");
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType)
                throws CertificateException {
              throw new CertificateException("client side only");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
              return ca.getAcceptedIssuers();
            }
          };
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {n2.keyManager()}, new TrustManager[] {recording}, null);
      String address = c.peers.get(nodeId);
      try (SSLSocket socket =
          (SSLSocket)
              context
                  .getSocketFactory()
                  .createSocket(RaftSettings.host(address), RaftSettings.port(address))) {
        socket.setSoTimeout(5_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {"h2"});
        socket.setSSLParameters(parameters);
        socket.startHandshake();
      }
      return seen[0];
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("no TLS connection to " + nodeId, e);
    }
  }

  static String chain(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      b.append(" <- ").append(t);
    }
    return b.toString();
  }

  /** Each running node's commit index. */
  private static Map<String, Long> commitIndexes(TestCluster c) {
    Map<String, Long> out = new TreeMap<>();
    c.nodes.forEach((id, node) -> out.put(id, node.status().commitIndex()));
    return out;
  }

  static Message message(String keyName) {
    return Message.valueOf(ByteString.copyFrom(createKey(keyName).toByteArray()));
  }

  static ReloadingCredentials credentials(TlsFiles files) throws IOException {
    return ReloadingCredentials.open(files, GroupCa.CHECK_INTERVAL, Clock.systemUTC());
  }

  static GrpcTlsConfig tls(TlsFiles files) throws IOException {
    ReloadingCredentials credentials = credentials(files);
    return new GrpcTlsConfig(credentials.keyManager(), credentials.trustManager(), true);
  }

  /** A Ratis client of the group, outside every node, with {@code tls} (null: plaintext). */
  static RaftClient client(TestCluster c, GrpcTlsConfig tls, ClientId clientId) {
    RaftGroup group =
        RaftSettings.group(ConsensusConfig.of("n1", c.peers, "test", Path.of("unused")));
    RaftProperties properties = new RaftProperties();
    RaftConfigKeys.Rpc.setType(properties, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        properties, TimeDuration.valueOf(2, TimeUnit.SECONDS));
    Parameters parameters = new Parameters();
    if (tls != null) {
      GrpcConfigKeys.TLS.setConf(parameters, tls);
      GrpcConfigKeys.Client.setTlsConf(parameters, tls);
      GrpcConfigKeys.Admin.setTlsConf(parameters, tls);
    }
    return RaftClient.newBuilder()
        .setProperties(properties)
        .setParameters(parameters)
        .setRaftGroup(group)
        .setClientId(clientId)
        .setRetryPolicy(
            RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                3, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
        .build();
  }
}
