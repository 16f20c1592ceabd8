package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.AddNodeRequest;
import io.keyrotor.api.v1.AddNodeResponse;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RemoveNodeRequest;
import io.keyrotor.api.v1.RemoveNodeResponse;
import io.keyrotor.storage.version.ApplyFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read replica on a real in-JVM cluster (mutual TLS, Ratis, RocksDB, software HSMs holding the
 * zones' master keys as the layout's key ceremony shared them): n1..n3 are the voters of region
 * "near"; n4, of region "far" (zones "default" and "far"), starts with cluster.join=true and is
 * added with {@code replica} set. It stays a non-voting listener, serves linearizable reads and the
 * data plane of its zones itself (with the default follower policy, which sends a follower's
 * data-plane reads to the leader), forwards writes, and the voters commit without it. Removed,
 * wiped and added again as a replica, it catches up and serves reads again; stopped, its directory
 * can be deleted at once.
 */
class ReadReplicaIT {

  @TempDir Path directory;
  private LocalTestCluster cluster;

  @AfterEach
  void close() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void replicaServesLinearizableReadsAndItsZones_andCountsForNoQuorum() throws Exception {
    cluster =
        new LocalTestCluster(directory.resolve("c"), 4, List.of("near", "near", "near", "far"));
    for (String voter : List.of("n1", "n2", "n3")) {
      dropPeerN4(voter);
      cluster.start(voter);
    }
    cluster.configure("n4", "cluster.join", "true");
    cluster.awaitRegistered();
    cluster.awaitClusterVersion(ApplyFeature.MEMBERSHIP_COMMANDS.version());
    cluster.createKey("k", "default");

    cluster.start("n4");
    AddNodeResponse added =
        cluster
            .admin("n1")
            .withDeadlineAfter(300, TimeUnit.SECONDS)
            .addNode(add("n4").toBuilder().setReplica(true).build());
    assertEquals(List.of("n1", "n2", "n3"), added.getVotersList(), "" + added);
    assertEquals(List.of("n4"), added.getListenersList(), "" + added);
    assertTrue(added.getVerifiedZonesList().containsAll(List.of("default", "far")), "" + added);

    // Not a voter anywhere, a listener in its own view and in the cluster status.
    for (String id : List.of("n1", "n2", "n3", "n4")) {
      var members = cluster.nodes.get(id).raft().members();
      assertEquals(List.of("n1", "n2", "n3"), List.copyOf(members.voters().keySet()), id);
      assertEquals(List.of("n4"), List.copyOf(members.listeners().keySet()), id);
    }
    assertTrue(cluster.nodes.get("n4").raft().isListener());
    assertFalse(cluster.nodes.get("n1").raft().isListener());
    ClusterStatus status =
        cluster.admin("n1").getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    NodeStatus replica =
        status.getNodesList().stream().filter(n -> n.getId().equals("n4")).findFirst().get();
    assertEquals(NodeRole.NODE_ROLE_LISTENER, replica.getRole(), "" + replica);

    // Read-your-write: each key created on the leader is read on the replica right after, with no
    // wait in between: the replica's read barrier takes the leader's read index and applies it.
    for (int i = 0; i < 5; i++) {
      String name = "fresh-" + i;
      cluster
          .keys(cluster.leaderId())
          .createKey(CreateKeyRequest.newBuilder().setName(name).setZone("default").build());
      Key read = cluster.keys("n4").getKey(KeyRequests.key(name));
      assertEquals(name, read.getName());
    }
    List<String> listed =
        cluster
            .keys("n4")
            .listKeys(ListKeysRequest.newBuilder().setPageSize(100).build())
            .getKeysList()
            .stream()
            .map(Key::getName)
            .toList();
    assertTrue(listed.containsAll(List.of("k", "fresh-4")), "" + listed);

    // A write sent to the replica is forwarded to the leader: a key of the zone only the replica
    // holds (its HSM wraps the KEK), committed by the voters.
    cluster
        .keys("n4")
        .createKey(CreateKeyRequest.newBuilder().setName("far-key").setZone("far").build());
    assertEquals(
        "far", cluster.keys(cluster.leaderId()).getKey(KeyRequests.key("far-key")).getZone());

    // The data plane of its zones, served on the replica (the default follower policy would send
    // a follower's data-plane read of "k" to the leader, which holds "default").
    for (String key : List.of("k", "far-key")) {
      GenerateDataKeyResponse dataKey =
          cluster
              .keys("n4")
              .generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName(key).build());
      assertEquals(
          dataKey.getPlaintext(),
          cluster
              .keys("n4")
              .decrypt(
                  DecryptRequest.newBuilder().setCiphertext(dataKey.getWrappedDataKey()).build())
              .getPlaintext(),
          key);
    }

    // Without the replica the voters still commit: it counts for no majority.
    cluster.stop("n4");
    cluster
        .keys(cluster.leaderId())
        .createKey(CreateKeyRequest.newBuilder().setName("after-stop").setZone("default").build());
    for (String id : List.of("n1", "n2", "n3")) {
      assertEquals("after-stop", cluster.keys(id).getKey(KeyRequests.key("after-stop")).getName());
    }

    // A voter is not turned into a replica.
    StatusRuntimeException refused =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                cluster
                    .admin("n2")
                    .addNode(
                        add("n1").toBuilder()
                            .setRaftAddress(cluster.layout().raftAddress(1))
                            .setApiAddress(cluster.layout().apiAddress(1))
                            .setRegion("near")
                            .setReplica(true)
                            .build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
    assertEquals("NODE_ALREADY_MEMBER", GrpcErrors.reason(refused));

    // Dropping the replica (docs/operations.md): remove-node, with no quorum check (it counts for
    // no majority, and it is down); it leaves the group and the registry on every voter.
    RemoveNodeResponse removed =
        cluster
            .admin("n1")
            .withDeadlineAfter(300, TimeUnit.SECONDS)
            .removeNode(RemoveNodeRequest.newBuilder().setNodeId("n4").build());
    assertEquals(List.of("n1", "n2", "n3"), removed.getVotersList(), "" + removed);
    assertFalse(removed.getAlreadyRemoved(), "" + removed);
    cluster.awaitConvergence();
    for (String id : List.of("n1", "n2", "n3")) {
      var members = cluster.nodes.get(id).raft().members();
      assertTrue(members.listeners().isEmpty(), id + ": " + members.listeners());
      assertFalse(cluster.nodes.get(id).raft().state().nodes().containsKey("n4"), id);
    }

    // Its data wiped, it rejoins with --replica: it catches up from the voters (the keys written
    // while it was out included), proves its zones again and is a listener serving reads.
    deleteTree(cluster.directory.resolve("n4").resolve("data"));
    cluster.start("n4");
    AddNodeResponse rejoined =
        cluster
            .admin("n2")
            .withDeadlineAfter(300, TimeUnit.SECONDS)
            .addNode(add("n4").toBuilder().setReplica(true).build());
    assertEquals(List.of("n1", "n2", "n3"), rejoined.getVotersList(), "" + rejoined);
    assertEquals(List.of("n4"), rejoined.getListenersList(), "" + rejoined);
    assertTrue(cluster.nodes.get("n4").raft().isListener());
    assertEquals("after-stop", cluster.keys("n4").getKey(KeyRequests.key("after-stop")).getName());

    // Stopped, nothing writes into its directory any more (a node's close waits for its Raft
    // server's snapshot on stop): an operator may wipe it at once.
    cluster.stop("n4");
    deleteTree(cluster.directory.resolve("n4"));
    assertTrue(Files.notExists(cluster.directory.resolve("n4")));
  }

  private static void deleteTree(Path root) throws java.io.IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  private AddNodeRequest add(String id) {
    int index = Integer.parseInt(id.substring(1));
    return AddNodeRequest.newBuilder()
        .setNodeId(id)
        .setRaftAddress(cluster.layout().raftAddress(index))
        .setApiAddress(cluster.layout().apiAddress(index))
        .setRegion("far")
        .setWaitSeconds(240)
        .build();
  }

  /** Drops the replica's lines from a voter's configuration: it joins later. */
  private void dropPeerN4(String id) throws Exception {
    Path file = cluster.directory.resolve(id).resolve("node.properties");
    String kept =
        Files.readAllLines(file).stream()
            .filter(line -> !line.startsWith("peer.n4."))
            .collect(Collectors.joining("\n", "", "\n"));
    Files.writeString(file, kept);
  }
}
