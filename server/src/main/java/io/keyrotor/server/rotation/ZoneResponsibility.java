package io.keyrotor.server.rotation;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.NodeRecord;
import java.util.Set;

/**
 * Which node proposes the time-driven work of a zone: the leader when it serves the zone, else the
 * first registered node (by id) that serves it. New key material is wrapped by the proposer's HSM,
 * so the proposer must hold the zone. Two proposers at once (around a leader change) are harmless:
 * every proposal is a compare-and-set or carries a request id that applies once.
 */
final class ZoneResponsibility {
  private final RaftNode raft;
  private final String nodeId;
  private final Set<String> servedZones;

  ZoneResponsibility(RaftNode raft, String nodeId, Set<String> servedZones) {
    this.raft = raft;
    this.nodeId = nodeId;
    this.servedZones = Set.copyOf(servedZones);
  }

  boolean responsibleFor(String zone) {
    if (!servedZones.contains(zone)) {
      return false;
    }
    if (raft.isReadyLeader()) {
      return true;
    }
    String leader = raft.status().leaderIdOrNull();
    if (leader == null) {
      return false;
    }
    NodeRecord leaderRecord = raft.state().nodes().get(leader);
    if (leaderRecord == null || leaderRecord.getZonesList().contains(zone)) {
      return false;
    }
    for (NodeRecord node : raft.state().nodes().values()) {
      if (node.getZonesList().contains(zone)) {
        return node.getId().equals(nodeId); // the first holder in id order
      }
    }
    return false;
  }
}
