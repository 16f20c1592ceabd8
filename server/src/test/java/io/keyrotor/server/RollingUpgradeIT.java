package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.GrpcErrors.reason;
import static io.keyrotor.server.KeyRequests.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.AddNodeRequest;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RemoveNodeRequest;
import io.keyrotor.api.v1.ReplaceNodeRequest;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.server.api.ClusterFeatures;
import io.keyrotor.storage.version.ApplyFeature;
import io.keyrotor.storage.version.ClusterVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling upgrade of a real 3-node cluster under write load. Every node starts as the "old"
 * binary (the same jar with {@code upgrade.max-supported-version=1}); the nodes are restarted
 * uncapped one at a time while writes go on. The cluster's version stays 1 while any voting member
 * is old and rises to this binary's newest ({@link ClusterVersion#SUPPORTED}) after the last
 * restart; the gated apply behaviour switches on only then, every replica ends with the same
 * digest, and no acknowledged write is lost. A node started old against the raised cluster refuses
 * to start instead of applying.
 */
class RollingUpgradeIT {
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  private static final ApplyFeature GATED = ApplyFeature.REGISTRATION_AUDITS_SUPPORTED_VERSION;
  private static final int NEWEST = ClusterVersion.SUPPORTED;

  @TempDir Path directory;

  @Test
  void rollingUpgrade_underLoad_raisesTheVersionAfterTheLastNode_digestsEqual() throws Exception {
    try (LocalTestCluster cluster = new LocalTestCluster(directory, 3, List.of("default"))) {
      for (String id : NODES) {
        cluster.configure(id, "upgrade.check-interval", "200ms");
        cluster.configure(id, "upgrade.max-supported-version", "1");
      }
      cluster.startAll();
      assertActiveVersion(cluster, 1);
      ClusterStatus before = cluster.admin("n1").getClusterStatus(request());
      assertEquals(1, before.getActiveClusterVersion());
      for (NodeStatus node : before.getNodesList()) {
        assertEquals(1, node.getSupportedClusterVersion(), node.getId());
      }
      // A request that needs the gated behaviour is refused before anything is proposed.
      StatusRuntimeException refused =
          assertThrows(
              StatusRuntimeException.class,
              () -> ClusterFeatures.require(cluster.nodes.get("n1").raft().state(), GATED, "it"));
      assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
      assertEquals(ErrorReason.FEATURE_NOT_ACTIVE.name(), reason(refused));
      assertMembershipChangesRefused(cluster);

      Load load = new Load(cluster);
      Thread writer = new Thread(load, "rolling-upgrade-load");
      writer.start();
      try {
        load.awaitAcknowledged(5);
        for (int i = 0; i < NODES.size(); i++) {
          String id = NODES.get(i);
          int acknowledged = load.acknowledged.size();
          cluster.stop(id);
          cluster.configure(id, "upgrade.max-supported-version", String.valueOf(NEWEST));
          cluster.start(id);
          waitUntil(
              () -> registeredSupporting(cluster, id, NEWEST),
              Duration.ofSeconds(60),
              id + " registered as supporting version " + NEWEST);
          load.awaitAcknowledged(acknowledged + 3);
          if (i < NODES.size() - 1) {
            // An old voting member is left: the version must not have moved.
            assertActiveVersion(cluster, 1);
          }
        }
        waitUntil(
            () -> cluster.nodes.values().stream().allMatch(n -> activeOf(n) == NEWEST),
            Duration.ofSeconds(60),
            "every node at cluster version " + NEWEST);
        load.awaitAcknowledged(load.acknowledged.size() + 3);
      } finally {
        load.stop.set(true);
        writer.join(60_000);
      }
      assertTrue(load.failure.get() == null, () -> "load failed: " + load.failure.get());

      cluster.awaitConvergence();
      for (String key : load.acknowledged) {
        for (String id : NODES) {
          assertTrue(cluster.nodes.get(id).raft().state().key(key).isPresent(), key + " on " + id);
        }
      }
      ClusterFeatures.require(cluster.nodes.get("n2").raft().state(), GATED, "it");
      ClusterStatus after = cluster.admin("n2").getClusterStatus(request());
      assertEquals(NEWEST, after.getActiveClusterVersion());
      for (NodeStatus node : after.getNodesList()) {
        assertEquals(NEWEST, node.getSupportedClusterVersion(), node.getId());
        assertEquals(NEWEST, node.getActiveClusterVersion(), node.getId());
      }

      // The gated behaviour switched on only with the version: a registration applied before the
      // raise has the old audit detail, one applied after it (n1 restarting) the new one.
      List<AuditRecord> registrationsBefore = registrations(cluster);
      assertTrue(
          registrationsBefore.stream().noneMatch(r -> r.getDetail().contains("supports=")),
          registrationsBefore.toString());
      cluster.stop("n1");
      cluster.start("n1");
      waitUntil(
          () ->
              registrations(cluster).stream()
                  .anyMatch(
                      r ->
                          r.getDetail().startsWith("node=n1 ")
                              && r.getDetail().endsWith("supports=" + NEWEST)),
          Duration.ofSeconds(60),
          "n1's registration audited with its supported version");

      // An old binary cannot join the raised cluster: it refuses to start, nothing applied.
      cluster.stop("n3");
      cluster.configure("n3", "upgrade.max-supported-version", "1");
      KeyrotorNode.StartupException old =
          assertThrows(KeyrotorNode.StartupException.class, () -> cluster.start("n3"));
      assertTrue(old.getMessage().contains("UPGRADE REQUIRED"), old.getMessage());
      cluster.nodes.remove("n3");
      cluster.configure("n3", "upgrade.max-supported-version", String.valueOf(NEWEST));
      cluster.start("n3");
      cluster.awaitConvergence();
      assertTrue(cluster.fatalErrors.isEmpty(), () -> "fatal errors: " + cluster.fatalErrors);
    }
  }

  /**
   * At version 1 a voter may run the base binary, which does not know AdmitNode and RemoveNode:
   * AddNode, RemoveNode and ReplaceNode are refused before anything is proposed, on every node.
   */
  private static void assertMembershipChangesRefused(LocalTestCluster cluster) {
    AddNodeRequest n4 =
        AddNodeRequest.newBuilder()
            .setNodeId("n4")
            .setRaftAddress("127.0.0.1:1")
            .setApiAddress("127.0.0.1:2")
            .setRegion("default")
            .build();
    for (String id : NODES) {
      var admin = cluster.admin(id);
      List<Runnable> calls =
          List.of(
              () -> admin.addNode(n4),
              () -> admin.removeNode(RemoveNodeRequest.newBuilder().setNodeId("n3").build()),
              () ->
                  admin.replaceNode(
                      ReplaceNodeRequest.newBuilder().setOldNodeId("n3").setNewNode(n4).build()));
      for (Runnable call : calls) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.toString());
        assertEquals(ErrorReason.FEATURE_NOT_ACTIVE.name(), reason(e), e.toString());
        String message = e.getStatus().getDescription();
        assertTrue(
            message.contains("MEMBERSHIP_COMMANDS")
                && message.contains("Raise the cluster version"),
            message);
      }
    }
    cluster.awaitConvergence();
    for (KeyrotorNode node : cluster.nodes.values()) {
      assertEquals(List.of("n1", "n2", "n3"), List.copyOf(node.raft().state().nodes().keySet()));
    }
    List<String> proposed =
        cluster.nodes.get("n1").raft().state().audit(0, 100_000).stream()
            .map(AuditRecord::getAction)
            .filter(a -> Set.of("ADMIT_NODE", "REMOVE_NODE", "UNKNOWN_COMMAND").contains(a))
            .toList();
    assertEquals(List.of(), proposed, "a refused membership change proposes nothing");
  }

  private static GetClusterStatusRequest request() {
    return GetClusterStatusRequest.getDefaultInstance();
  }

  private static int activeOf(KeyrotorNode node) {
    return node.raft().state().activeClusterVersion();
  }

  private static void assertActiveVersion(LocalTestCluster cluster, int version) {
    for (var entry : cluster.nodes.entrySet()) {
      assertEquals(version, activeOf(entry.getValue()), entry.getKey());
    }
  }

  private static boolean registeredSupporting(LocalTestCluster cluster, String id, int version) {
    return cluster.nodes.values().stream()
        .allMatch(
            n -> {
              var record = n.raft().state().nodes().get(id);
              return record != null && record.getSupportedClusterVersion() == version;
            });
  }

  private static List<AuditRecord> registrations(LocalTestCluster cluster) {
    return cluster.nodes.get("n2").raft().state().audit(0, 100_000).stream()
        .filter(r -> r.getAction().equals("REGISTER_NODE"))
        .toList();
  }

  /**
   * Creates keys one after another through whichever node answers, remembering every one the
   * cluster acknowledged (a retry that finds the key already created counts too).
   */
  private static final class Load implements Runnable {
    final LocalTestCluster cluster;
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    final AtomicBoolean stop = new AtomicBoolean();
    final java.util.concurrent.atomic.AtomicReference<Throwable> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    private final AtomicInteger next = new AtomicInteger();

    Load(LocalTestCluster cluster) {
      this.cluster = cluster;
    }

    @Override
    public void run() {
      int attempt = 0;
      String name = "load-" + next.getAndIncrement();
      while (!stop.get()) {
        String id = NODES.get(attempt++ % NODES.size());
        try {
          KeyrotorNode node = cluster.nodes.get(id);
          if (node == null) {
            continue;
          }
          cluster.keys(id, Duration.ofSeconds(10)).createKey(newKey(name));
          acknowledged.add(name);
          name = "load-" + next.getAndIncrement();
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == Status.Code.ALREADY_EXISTS) {
            acknowledged.add(name);
            name = "load-" + next.getAndIncrement();
          }
          // Otherwise the node is restarting or not the leader: try the next one.
        } catch (RuntimeException e) {
          failure.set(e);
          return;
        }
      }
    }

    void awaitAcknowledged(int count) {
      waitUntil(
          () -> acknowledged.size() >= count || failure.get() != null,
          Duration.ofSeconds(90),
          count + " writes acknowledged");
    }
  }
}
