package io.keyrotor.server;

import io.keyrotor.consensus.GroupMembers;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.SetClusterVersion;
import io.keyrotor.storage.version.ClusterVersion;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raises the cluster's active apply version once every member supports it, voters and non-voting
 * listeners (read replicas) alike: a listener counts for no quorum but applies every entry, so a
 * version its binary cannot apply would stop it. On the leader, every {@code
 * upgrade.check-interval}, it reads the members' registrations (each node reports the highest
 * version its binary supports when it starts) and proposes SetClusterVersion with the lowest of
 * them when that is above the active version. A member that has not registered, or registered
 * before versions were reported, counts as version 1, so a rolling upgrade raises the version only
 * after its last node restarted on the new binary. Apply never lowers it.
 */
final class ClusterVersionDriver {
  private static final Logger LOG = LoggerFactory.getLogger(KeyrotorNode.class);

  private ClusterVersionDriver() {}

  /**
   * The version the leader should raise the cluster to, if any: the lowest version the {@code
   * voting} members registered ({@code nodes}, by id) and this node ({@code ownSupported}) support,
   * when it is above {@code active}.
   */
  static OptionalInt target(
      int active, int ownSupported, Collection<String> voting, Map<String, NodeRecord> nodes) {
    int lowest = ownSupported;
    for (String id : voting) {
      NodeRecord node = nodes.get(id);
      int supported =
          node == null ? ClusterVersion.BASE : Math.max(ClusterVersion.BASE, supportedBy(node));
      lowest = Math.min(lowest, supported);
    }
    return lowest > active ? OptionalInt.of(lowest) : OptionalInt.empty();
  }

  private static int supportedBy(NodeRecord node) {
    return node.getSupportedClusterVersion();
  }

  static void start(
      String nodeId,
      int ownSupported,
      Duration interval,
      RaftNode raft,
      ScheduledExecutorService scheduler) {
    AtomicBoolean inFlight = new AtomicBoolean();
    var unused =
        scheduler.scheduleWithFixedDelay(
            () -> {
              try {
                check(nodeId, ownSupported, raft, inFlight);
              } catch (RuntimeException e) {
                LOG.warn("Node {}: cluster version check failed: {}", nodeId, e.toString());
              }
            },
            interval.toMillis(),
            interval.toMillis(),
            TimeUnit.MILLISECONDS);
  }

  private static void check(
      String nodeId, int ownSupported, RaftNode raft, AtomicBoolean inFlight) {
    if (!raft.isReadyLeader() || inFlight.get()) {
      return;
    }
    int active = raft.state().activeClusterVersion();
    // The group as it is now (members added or removed since start count), listeners included:
    // they apply the log too. Nothing is raised while a configuration change is in progress.
    GroupMembers members = raft.members();
    if (!members.stable()) {
      return;
    }
    OptionalInt target = target(active, ownSupported, members.all().keySet(), raft.state().nodes());
    if (target.isEmpty() || !inFlight.compareAndSet(false, true)) {
      return;
    }
    Command command =
        Command.newBuilder()
            .setRequestId("cluster-version:" + UUID.randomUUID())
            .setOriginNode(nodeId)
            .setSetClusterVersion(SetClusterVersion.newBuilder().setVersion(target.getAsInt()))
            .build();
    var unused =
        raft.propose(command)
            .orTimeout(10, TimeUnit.SECONDS)
            .whenComplete(
                (result, failure) -> {
                  inFlight.set(false);
                  if (failure == null) {
                    LOG.info(
                        "Node {}: every voting member supports cluster version {}: {}",
                        nodeId,
                        target.getAsInt(),
                        result.getOutcome().getMessage());
                  } else {
                    LOG.debug("Node {}: cluster version not raised yet: {}", nodeId, failure);
                  }
                });
  }
}
