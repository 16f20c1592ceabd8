package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.KeyRequests.decryption;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.AddNodeRequest;
import io.keyrotor.api.v1.AddNodeResponse;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RemoveNodeRequest;
import io.keyrotor.api.v1.RemoveNodeResponse;
import io.keyrotor.api.v1.ReplaceNodeRequest;
import io.keyrotor.api.v1.ReplaceNodeResponse;
import io.keyrotor.api.v1.TransferLeadershipRequest;
import io.keyrotor.storage.version.ApplyFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes on a real in-JVM cluster (mutual TLS, Ratis, RocksDB, software HSMs holding
 * the zones' master keys as the layout's key ceremony shared them): n1..n3 start as the cluster; n4
 * and n5 start later with cluster.join=true and are added; nodes are removed and replaced, and what
 * would lose the quorum is refused. A replacement retried after it completed changes nothing.
 */
class MembershipIT {
  private static final Duration LONG = Duration.ofMinutes(2);

  @TempDir Path directory;
  private LocalTestCluster cluster;

  @AfterEach
  void close() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void addRemoveReplace_andRefusals() throws Exception {
    cluster = new LocalTestCluster(directory.resolve("c"), 5, List.of("local"));
    for (String first : List.of("n1", "n2", "n3")) {
      keepOnlyFirstThreePeers(first);
    }
    cluster.configure("n4", "cluster.join", "true");
    cluster.configure("n4", "reads.follower", "read-index");
    cluster.configure("n5", "cluster.join", "true");
    for (String first : List.of("n1", "n2", "n3")) {
      cluster.start(first);
    }
    cluster.awaitRegistered();
    cluster.awaitClusterVersion(ApplyFeature.MEMBERSHIP_COMMANDS.version());
    cluster.createKey("k", "default");

    // Refused before anything changes: malformed, unknown, already a member, not an admin.
    assertRefused(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        () -> cluster.admin("n1").addNode(add("n4").toBuilder().setRaftAddress("nowhere").build()));
    assertRefused(
        Status.Code.NOT_FOUND,
        "UNKNOWN_NODE",
        () ->
            cluster.admin("n1").removeNode(RemoveNodeRequest.newBuilder().setNodeId("n9").build()));
    assertRefused(
        Status.Code.FAILED_PRECONDITION,
        "NODE_ALREADY_MEMBER",
        () ->
            cluster
                .admin("n2")
                .addNode(
                    add("n1").toBuilder().setRaftAddress(raft(1)).setApiAddress(api(1)).build()));
    assertRefused(
        Status.Code.PERMISSION_DENIED,
        "PERMISSION_DENIED",
        () -> cluster.adminAs("n1", "service").addNode(add("n4")));
    assertEquals(List.of("n1", "n2", "n3"), voters("n1"));

    // n4 joins: listener, catch-up, proof of its zones, voter.
    cluster.start("n4");
    AddNodeResponse added = longAdmin("n2").addNode(add("n4"));
    assertEquals(List.of("n1", "n2", "n3", "n4"), added.getVotersList());
    assertTrue(added.getVerifiedZonesList().containsAll(List.of("default", "local")), "" + added);
    cluster.awaitConvergence();
    assertEquals(List.of("n1", "n2", "n3", "n4"), voters("n4"));
    assertTrue(
        cluster
            .nodes
            .get("n4")
            .raft()
            .state()
            .nodes()
            .get("n4")
            .getVerifiedZonesList()
            .contains("default"));

    // The joined node is a full member: as a follower it serves reads through its own read
    // barrier (ReadIndex, configured for n4), it takes leadership when asked, and as the leader it
    // makes and decrypts data keys.
    Key onN4 = cluster.keys("n4").getKey(KeyRequests.key("k"));
    assertEquals("k", onN4.getName());
    GenerateDataKeyResponse dataKey =
        cluster
            .keys(cluster.leaderId())
            .generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName("k").build());
    assertEquals(dataKey.getPlaintext(), decryptOn("n4", dataKey).getPlaintext());
    waitUntil(
        () -> {
          try {
            return "n4"
                .equals(
                    longAdmin("n1")
                        .transferLeadership(
                            TransferLeadershipRequest.newBuilder().setTargetNodeId("n4").build())
                        .getLeaderId());
          } catch (StatusRuntimeException e) {
            return false;
          }
        },
        LONG,
        "n4 leads after a transfer to it");
    GenerateDataKeyResponse onLeaderN4 =
        cluster
            .keys("n4")
            .generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName("k").build());
    assertEquals(onLeaderN4.getPlaintext(), decryptOn("n4", onLeaderN4).getPlaintext());

    // n2 leaves: out of the group and of the registry; a gated rotation no longer waits for it.
    // On UNAVAILABLE (a slow answer under load) RemoveNode is asked again, as its message says; a
    // retry after the first one took effect answers success (already_removed), never NOT_FOUND.
    removeRetried("n1", "n2");
    assertEquals(List.of("n1", "n3", "n4"), voters("n1"));
    // A retry after the removal took effect, on another node, is answered as done: nothing changes.
    long removalsBefore = removalRecords("n3");
    RemoveNodeResponse again =
        longAdmin("n3").removeNode(RemoveNodeRequest.newBuilder().setNodeId("n2").build());
    assertTrue(again.getAlreadyRemoved(), "" + again);
    assertTrue(again.getRemovalLogIndex() > 0, "" + again);
    assertEquals(List.of("n1", "n3", "n4"), again.getVotersList());
    assertEquals(removalsBefore, removalRecords("n3"), "a retried removal proposes nothing");
    // A node never known still gets NOT_FOUND, saying no removal of it is recorded.
    StatusRuntimeException never =
        assertRefused(
            Status.Code.NOT_FOUND,
            "UNKNOWN_NODE",
            () ->
                cluster
                    .admin("n1")
                    .removeNode(RemoveNodeRequest.newBuilder().setNodeId("n9").build()));
    assertTrue(
        never.getStatus().getDescription().contains("no removal of it is recorded"),
        never.getStatus().getDescription());
    cluster.stop("n2");
    cluster.awaitConvergence();
    for (String node : List.of("n1", "n3", "n4")) {
      assertFalse(cluster.nodes.get(node).raft().state().nodes().containsKey("n2"), node);
    }
    ClusterStatus status =
        cluster.admin("n1").getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    assertEquals(
        List.of("n1", "n3", "n4"),
        status.getNodesList().stream().map(NodeStatus::getId).toList(),
        "the cluster status lists the members only");
    cluster.keys("n1").rotateKey(KeyRequests.rotation("k", 30));
    waitUntil(
        () -> {
          KeyVersion v2 = version("k", 2);
          return !v2.getRequiredAcknowledgersList().isEmpty()
              && v2.getAcknowledgedByList().containsAll(v2.getRequiredAcknowledgersList());
        },
        LONG,
        "version 2 validated by the remaining nodes");
    assertEquals(List.of("n1", "n3", "n4"), version("k", 2).getRequiredAcknowledgersList());

    // n5 replaces n3.
    cluster.start("n5");
    ReplaceNodeRequest replacement =
        ReplaceNodeRequest.newBuilder().setOldNodeId("n3").setNewNode(add("n5")).build();
    ReplaceNodeResponse replaced = longAdmin("n4").replaceNode(replacement);
    assertEquals(List.of("n1", "n4", "n5"), replaced.getVotersList());
    assertFalse(replaced.getAlreadyReplaced(), "" + replaced);
    // The same request retried (its answer lost), on another node, after it completed: answered
    // as the first success was, with the removal's index, and nothing is proposed.
    long membershipBefore = membershipRecords("n1");
    ReplaceNodeResponse retried = longAdmin("n1").replaceNode(replacement);
    assertTrue(retried.getAlreadyReplaced(), "" + retried);
    assertTrue(retried.getRemovalLogIndex() > 0, "" + retried);
    assertEquals(replaced.getVotersList(), retried.getVotersList());
    assertEquals(replaced.getVerifiedZonesList(), retried.getVerifiedZonesList());
    assertEquals(
        membershipBefore, membershipRecords("n1"), "a retried replacement proposes nothing");
    cluster.stop("n3");
    cluster.awaitConvergence();
    assertFalse(cluster.nodes.get("n5").raft().state().nodes().containsKey("n3"));

    // With n5 down, removing n1 would leave n4 alone of the two voters needed: refused.
    cluster.stop("n5");
    StatusRuntimeException atRisk =
        assertRefused(
            Status.Code.FAILED_PRECONDITION,
            "MEMBERSHIP_QUORUM_AT_RISK",
            () ->
                longAdmin("n4").removeNode(RemoveNodeRequest.newBuilder().setNodeId("n1").build()));
    String why = atRisk.getStatus().getDescription();
    assertTrue(why.contains("n5"), why);
    assertFalse(why.contains("n2") || why.contains("n3"), "removed nodes are not named: " + why);
    assertEquals(List.of("n1", "n4", "n5"), voters("n4"));
  }

  private void removeRetried(String via, String id) {
    for (int attempt = 1; ; attempt++) {
      try {
        RemoveNodeResponse removed =
            longAdmin(via).removeNode(RemoveNodeRequest.newBuilder().setNodeId(id).build());
        assertFalse(removed.getVotersList().contains(id), "" + removed);
        assertTrue(attempt > 1 || !removed.getAlreadyRemoved(), "" + removed);
        return;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || attempt == 5) {
          throw e;
        }
      }
    }
  }

  /** How many RemoveNode commands the audit trail on {@code id} holds (applied or refused). */
  private long removalRecords(String id) {
    return auditRecords(id, Set.of("REMOVE_NODE"));
  }

  /** How many AdmitNode and RemoveNode commands the audit trail on {@code id} holds. */
  private long membershipRecords(String id) {
    return auditRecords(id, Set.of("ADMIT_NODE", "REMOVE_NODE"));
  }

  private long auditRecords(String id, Set<String> actions) {
    cluster.nodes.get(id).raft().readBarrier().orTimeout(60, TimeUnit.SECONDS).join();
    return cluster.nodes.get(id).raft().state().audit(0, 1_000_000).stream()
        .filter(record -> actions.contains(record.getAction()))
        .count();
  }

  private DecryptResponse decryptOn(String id, GenerateDataKeyResponse dataKey) {
    return cluster.keys(id).decrypt(decryption(dataKey.getWrappedDataKey()));
  }

  private AddNodeRequest add(String id) {
    int index = Integer.parseInt(id.substring(1));
    return AddNodeRequest.newBuilder()
        .setNodeId(id)
        .setRaftAddress(raft(index))
        .setApiAddress(api(index))
        .setRegion("local")
        .setWaitSeconds(240)
        .build();
  }

  private String raft(int index) {
    return cluster.layout().raftAddress(index);
  }

  private String api(int index) {
    return cluster.layout().apiAddress(index);
  }

  private io.keyrotor.api.v1.AdminServiceGrpc.AdminServiceBlockingStub longAdmin(String id) {
    return cluster.admin(id).withDeadlineAfter(300, java.util.concurrent.TimeUnit.SECONDS);
  }

  private List<String> voters(String id) {
    return List.copyOf(cluster.nodes.get(id).raft().members().voters().keySet());
  }

  private KeyVersion version(String name, int number) {
    Key key = cluster.keys("n1").getKey(KeyRequests.key(name));
    return key.getVersions(number - 1);
  }

  /** Drops the lines of the joiners n4 and n5 from a first node's configuration. */
  private void keepOnlyFirstThreePeers(String id) throws Exception {
    Path file = cluster.directory.resolve(id).resolve("node.properties");
    String kept =
        Files.readAllLines(file).stream()
            .filter(line -> !line.startsWith("peer.n4.") && !line.startsWith("peer.n5."))
            .collect(Collectors.joining("\n", "", "\n"));
    Files.writeString(file, kept);
  }

  private static StatusRuntimeException assertRefused(
      Status.Code code, String reason, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    assertEquals(reason, GrpcErrors.reason(e), e.getStatus().toString());
    return e;
  }
}
