package io.keyrotor.cli;

import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;

/** Cluster status answers for the tests. */
final class TestClusters {
  private TestClusters() {}

  /** Node {@code id} of {@code region}, leading. */
  static NodeStatus.Builder leader(String id, String region) {
    return NodeStatus.newBuilder().setId(id).setRegion(region).setRole(NodeRole.NODE_ROLE_LEADER);
  }

  /** The status of {@code nodes}, in order, led by the one whose role is LEADER (if any). */
  static ClusterStatus clusterOf(NodeStatus.Builder... nodes) {
    ClusterStatus.Builder status = ClusterStatus.newBuilder();
    for (NodeStatus.Builder node : nodes) {
      if (node.getRole() == NodeRole.NODE_ROLE_LEADER) {
        status.setLeaderId(node.getId());
      }
      status.addNodes(node);
    }
    return status.build();
  }
}
