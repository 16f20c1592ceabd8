package io.keyrotor.chaos.nemesis;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.chaos.v1.ChaosServiceGrpc;
import io.keyrotor.api.chaos.v1.ResetRequest;
import io.keyrotor.api.chaos.v1.SetClockOffsetRequest;
import io.keyrotor.api.chaos.v1.SetClockRateRequest;
import io.keyrotor.api.chaos.v1.SetRpcDelayRequest;
import io.keyrotor.api.v1.AddNodeRequest;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RemoveNodeRequest;
import io.keyrotor.api.v1.RemoveNodeResponse;
import io.keyrotor.api.v1.ReplaceNodeRequest;
import io.keyrotor.api.v1.ReplaceNodeResponse;
import io.keyrotor.api.v1.TransferLeadershipRequest;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The nemesis's levers over gRPC: each node's status (to find the leader), leadership transfer
 * (AdminService) and the chaos hook (keyrotor.chaos.v1: clock offset and rate, RPC delay, reset).
 */
public final class ClusterControl {
  private final Map<String, ManagedChannel> channels;

  /**
   * @param channels one channel per node id
   */
  public ClusterControl(Map<String, ManagedChannel> channels) {
    this.channels = new LinkedHashMap<>(channels);
  }

  public List<String> nodeIds() {
    return List.copyOf(channels.keySet());
  }

  private ChaosServiceGrpc.ChaosServiceBlockingStub chaos(String node) {
    return ChaosServiceGrpc.newBlockingStub(channels.get(node))
        .withDeadlineAfter(3, TimeUnit.SECONDS);
  }

  private AdminServiceGrpc.AdminServiceBlockingStub admin(String node, long seconds) {
    return AdminServiceGrpc.newBlockingStub(channels.get(node))
        .withDeadlineAfter(seconds, TimeUnit.SECONDS);
  }

  /** A node's status, or empty if it did not answer within a second (or has no channel). */
  public Optional<NodeStatus> status(String node) {
    if (!channels.containsKey(node)) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          AdminServiceGrpc.newBlockingStub(channels.get(node))
              .withDeadlineAfter(1, TimeUnit.SECONDS)
              .getNodeStatus(GetNodeStatusRequest.getDefaultInstance()));
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * The leader most nodes name (a node that says it is leader counts for itself); empty if no node
   * names one.
   */
  public Optional<String> leader() {
    Map<String, Integer> votes = new HashMap<>();
    for (String node : channels.keySet()) {
      Optional<NodeStatus> status = status(node);
      if (status.isEmpty()) {
        continue;
      }
      String named =
          status.get().getRole().name().endsWith("LEADER") ? node : status.get().getLeaderId();
      if (named != null && !named.isEmpty()) {
        votes.merge(named, 1, Integer::sum);
      }
    }
    return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey);
  }

  /** Asks the cluster (through {@code via}) to hand leadership to {@code target}. */
  public String transferLeadership(String via, String target) {
    return admin(via, 15)
        .transferLeadership(TransferLeadershipRequest.newBuilder().setTargetNodeId(target).build())
        .getLeaderId();
  }

  /** AddNode through {@code via}: listener, catch-up, zone proof, voter; the voters after it. */
  public List<String> addNode(
      String via,
      String id,
      String raftAddress,
      String apiAddress,
      String region,
      int waitSeconds) {
    return admin(via, waitSeconds + 30L)
        .addNode(addRequest(id, raftAddress, apiAddress, region, waitSeconds))
        .getVotersList();
  }

  /** RemoveNode through {@code via}; the answer says whether an earlier call had done it. */
  public RemoveNodeResponse removeNode(String via, String id) {
    return admin(via, 60).removeNode(RemoveNodeRequest.newBuilder().setNodeId(id).build());
  }

  /**
   * ReplaceNode through {@code via}: AddNode of the new node, then RemoveNode of the old; the
   * answer says whether an earlier call had done it.
   */
  public ReplaceNodeResponse replaceNode(
      String via,
      String old,
      String id,
      String raftAddress,
      String apiAddress,
      String region,
      int waitSeconds) {
    return admin(via, waitSeconds + 60L)
        .replaceNode(
            ReplaceNodeRequest.newBuilder()
                .setOldNodeId(old)
                .setNewNode(addRequest(id, raftAddress, apiAddress, region, waitSeconds))
                .build());
  }

  /**
   * The group's voting members as {@code via} sees them (every member its cluster status lists that
   * is not a listener), or empty if it did not answer within 5 s.
   */
  public Optional<List<String>> voters(String via) {
    if (!channels.containsKey(via)) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          admin(via, 5)
              .getClusterStatus(GetClusterStatusRequest.getDefaultInstance())
              .getNodesList()
              .stream()
              .filter(n -> n.getRole() != NodeRole.NODE_ROLE_LISTENER)
              .map(NodeStatus::getId)
              .sorted()
              .toList());
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  private static AddNodeRequest addRequest(
      String id, String raftAddress, String apiAddress, String region, int waitSeconds) {
    return AddNodeRequest.newBuilder()
        .setNodeId(id)
        .setRaftAddress(raftAddress)
        .setApiAddress(apiAddress)
        .setRegion(region)
        .setWaitSeconds(waitSeconds)
        .build();
  }

  public void setClockOffset(String node, long offsetMillis) {
    chaos(node)
        .setClockOffset(SetClockOffsetRequest.newBuilder().setOffsetMillis(offsetMillis).build());
  }

  public void setClockRate(String node, double rate) {
    chaos(node).setClockRate(SetClockRateRequest.newBuilder().setRate(rate).build());
  }

  public void setRpcDelay(String node, int delayMillis, int jitterMillis) {
    chaos(node)
        .setRpcDelay(
            SetRpcDelayRequest.newBuilder()
                .setDelayMillis(delayMillis)
                .setJitterMillis(jitterMillis)
                .build());
  }

  /** Resets a node's chaos hook; false if it did not answer (true: no channel, no hook). */
  public boolean reset(String node) {
    if (!channels.containsKey(node)) {
      return true;
    }
    try {
      chaos(node).reset(ResetRequest.getDefaultInstance());
      return true;
    } catch (StatusRuntimeException e) {
      return false;
    }
  }
}
