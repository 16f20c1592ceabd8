package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.await;
import static io.keyrotor.consensus.TestCluster.createKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.consensus.testing.GroupCa;
import io.keyrotor.tls.ReloadingCredentials;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node with a valid certificate from the group's CA, for a name outside the configuration, runs a
 * real Ratis server in the group (it trusts the CA and skips keyrotor's checks, as an attacker
 * would): it cannot vote, cannot append and cannot join. The members' terms, logs and configuration
 * stay as they were. A member's certificate claiming another member's peer id is refused too.
 */
class OutsiderPeerIT {
  @TempDir Path root;
  private TestCluster cluster;
  private final List<RaftServer> rogues = new ArrayList<>();

  @AfterEach
  void tearDown() throws IOException {
    for (RaftServer rogue : rogues) {
      rogue.close();
    }
    TestCluster.closeAndCheck(cluster);
  }

  @Test
  void outsiderNode_cannotVoteAppendOrJoin() throws Exception {
    GroupCa ca = GroupCa.create(root.resolve("tls"), "raft test CA");
    cluster = new TestCluster(root, 3, c -> c.withTransport(ca.transport(c.nodeId())));
    cluster.startAll();
    await(cluster.leader().propose(createKey("before")));
    cluster.awaitConvergence();
    String leader = cluster.leaderId();
    Map<String, Long> terms = terms();
    Map<String, Long> commits = commits();
    TlsFiles n9 = ca.issueNode("n9");

    // 1. Votes: n9 campaigns (without pre-vote, so its term climbs) in a group of itself and the
    // members, and, a second rogue, under the leader's peer id on its own port (followers withhold
    // their votes from anyone but the leader they hear from, so only that claim could win them).
    Map<String, String> withN9 = new TreeMap<>(cluster.peers);
    withN9.put("n9", "127.0.0.1:" + TestCluster.freePort());
    RaftServer campaigner = rogue("n9", withN9, root.resolve("rogue-n9"), n9);
    Map<String, String> asLeader = new TreeMap<>(cluster.peers);
    asLeader.put(leader, "127.0.0.1:" + TestCluster.freePort());
    RaftServer impostor = rogue(leader, asLeader, root.resolve("rogue-leader"), n9);
    long target = terms.values().stream().mapToLong(Long::longValue).max().orElseThrow() + 3;
    TestCluster.waitUntil(
        () -> term(campaigner) >= target && term(impostor) >= target,
        Duration.ofSeconds(30),
        "the rogues campaigned past the members' term");
    assertEquals(terms, terms(), "no member saw the rogues' higher terms");
    assertEquals(leader, cluster.leaderId());
    assertTrue(!campaigner.getDivision(groupId()).getInfo().isLeader(), "n9 got no votes");

    // 2. Appends: n9 restarts alone in the group, keeping its high term, becomes leader and adds
    // a follower (one new peer: Ratis allows that change from a single member). Its appends to
    // the follower carry a term above the follower's, which would make the follower follow n9.
    campaigner.close();
    rogues.remove(campaigner);
    String follower = cluster.followers().get(0).nodeId();
    Map<String, String> alone = Map.of("n9", withN9.get("n9"));
    RaftServer rogueLeader = rogue("n9", alone, root.resolve("rogue-n9"), n9);
    TestCluster.waitUntil(
        () -> isLeaderReady(rogueLeader), Duration.ofSeconds(20), "n9 leads its own group");
    assertTrue(term(rogueLeader) > terms.get(follower));
    Map<String, String> n9AndFollower = new TreeMap<>(alone);
    n9AndFollower.put(follower, cluster.peers.get(follower));
    try (RaftClient toRogue = client(alone, n9)) {
      assertThrows(
          IOException.class,
          () -> {
            RaftClientReply reply = toRogue.admin().setConfiguration(peers(n9AndFollower));
            if (!reply.isSuccess()) {
              throw new IOException(String.valueOf(reply.getException()));
            }
          },
          "n9 cannot bring a member into its configuration");
    }
    assertEquals(terms, terms(), "no member saw n9's appends");
    assertEquals(commits, commits(), "no member's log changed");

    // 3. Joining: n9 asks the members to add it.
    try (RaftClient toMembers = client(cluster.peers, n9)) {
      assertThrows(
          IOException.class,
          () -> toMembers.admin().setConfiguration(peers(withN9)),
          "the members refuse n9's configuration change");
    }
    for (RaftNode node : cluster.nodes.values()) {
      Set<String> conf = new TreeSet<>();
      node.raftDivision().getRaftConf().getAllPeers().forEach(p -> conf.add(p.getId().toString()));
      assertEquals(cluster.peers.keySet(), conf, node.nodeId());
    }
    assertEquals(terms, terms());
    await(cluster.leader().propose(createKey("after")));
  }

  @Test
  void membersCertificate_claimingAnotherMembersPeerId_isRefused() throws Exception {
    GroupCa ca = GroupCa.create(root.resolve("tls"), "raft test CA");
    cluster = new TestCluster(root, 3, c -> c.withTransport(ca.transport(c.nodeId())));
    cluster.startAll();
    String leader = cluster.leaderId();
    String follower = cluster.followers().get(0).nodeId();
    // A member that has not heard from the leader yet is still at term 0; compare from the term
    // every member knows, or its first heartbeat looks like a vote the impostor won.
    TestCluster.waitUntil(
        () -> sameTermEverywhere(), Duration.ofSeconds(30), "every member knows the leader");
    Map<String, Long> terms = terms();
    // A follower's own certificate, campaigning as the leader from another port (the only
    // candidate the other follower does not withhold its vote from).
    Map<String, String> asLeader = new TreeMap<>(cluster.peers);
    asLeader.put(leader, "127.0.0.1:" + TestCluster.freePort());
    RaftServer impostor =
        rogue(leader, asLeader, root.resolve("rogue-leader"), ca.nodeFiles(follower));
    long target = terms.values().stream().mapToLong(Long::longValue).max().orElseThrow() + 3;
    TestCluster.waitUntil(
        () -> term(impostor) >= target, Duration.ofSeconds(30), "the impostor campaigned");
    assertEquals(terms, terms(), "no member took the impostor's vote requests");
  }

  private RaftGroupId groupId() {
    return RaftSettings.group(ConsensusConfig.of("n1", cluster.peers, "test", Path.of("unused")))
        .getGroupId();
  }

  private boolean sameTermEverywhere() {
    try {
      Map<String, Long> now = terms();
      return now.values().stream().distinct().count() == 1 && now.values().iterator().next() > 0;
    } catch (IOException e) {
      return false;
    }
  }

  private Map<String, Long> terms() throws IOException {
    Map<String, Long> out = new TreeMap<>();
    for (RaftNode node : cluster.nodes.values()) {
      out.put(node.nodeId(), node.status().term());
    }
    return out;
  }

  private Map<String, Long> commits() {
    Map<String, Long> out = new TreeMap<>();
    cluster.nodes.forEach((id, node) -> out.put(id, node.status().commitIndex()));
    return out;
  }

  private long term(RaftServer server) {
    try {
      return server.getDivision(groupId()).getInfo().getCurrentTerm();
    } catch (IOException e) {
      return -1;
    }
  }

  private boolean isLeaderReady(RaftServer server) {
    try {
      return server.getDivision(groupId()).getInfo().isLeaderReady();
    } catch (IOException e) {
      return false;
    }
  }

  private static List<RaftPeer> peers(Map<String, String> addresses) {
    List<RaftPeer> out = new ArrayList<>();
    addresses.forEach(
        (id, address) ->
            out.add(
                RaftPeer.newBuilder().setId(RaftPeerId.valueOf(id)).setAddress(address).build()));
    return out;
  }

  /** TLS with {@code files}' certificate, trusting the CA only: no member check. */
  private static GrpcTlsConfig caOnly(TlsFiles files) throws IOException {
    ReloadingCredentials credentials = RaftTlsIT.credentials(files);
    return new GrpcTlsConfig(credentials.keyManager(), credentials.trustManager(), true);
  }

  /**
   * A plain Ratis server (not a keyrotor node) with id {@code id} in the group of {@code peers}.
   */
  private RaftServer rogue(String id, Map<String, String> peers, Path dir, TlsFiles files)
      throws IOException {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftServerConfigKeys.setStorageDir(p, List.of(dir.toFile()));
    GrpcConfigKeys.Server.setHost(p, RaftSettings.host(peers.get(id)));
    GrpcConfigKeys.Server.setPort(p, RaftSettings.port(peers.get(id)));
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.LeaderElection.setPreVote(p, false);
    Parameters parameters = new Parameters();
    GrpcConfigKeys.TLS.setConf(parameters, caOnly(files));
    RaftServer server =
        RaftServer.newBuilder()
            .setServerId(RaftPeerId.valueOf(id))
            .setGroup(RaftGroup.valueOf(groupId(), peers(peers)))
            .setStateMachine(new BaseStateMachine())
            .setProperties(p)
            .setParameters(parameters)
            .setOption(RaftStorage.StartupOption.RECOVER)
            .build();
    server.start();
    rogues.add(server);
    return server;
  }

  private RaftClient client(Map<String, String> peers, TlsFiles files) throws IOException {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    Parameters parameters = new Parameters();
    GrpcTlsConfig tls = caOnly(files);
    GrpcConfigKeys.TLS.setConf(parameters, tls);
    GrpcConfigKeys.Client.setTlsConf(parameters, tls);
    GrpcConfigKeys.Admin.setTlsConf(parameters, tls);
    return RaftClient.newBuilder()
        .setProperties(p)
        .setParameters(parameters)
        .setRaftGroup(RaftGroup.valueOf(groupId(), peers(peers)))
        .setClientId(ClientId.randomId())
        .setRetryPolicy(
            RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                3, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
        .build();
  }
}
