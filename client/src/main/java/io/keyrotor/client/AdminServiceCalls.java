package io.keyrotor.client;

import io.keyrotor.api.v1.AddNodeRequest;
import io.keyrotor.api.v1.AddNodeResponse;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.GetPolicyRequest;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RemoveNodeRequest;
import io.keyrotor.api.v1.RemoveNodeResponse;
import io.keyrotor.api.v1.ReplaceNodeRequest;
import io.keyrotor.api.v1.ReplaceNodeResponse;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionRequest;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionResponse;
import io.keyrotor.api.v1.RotateZoneMasterKeyRequest;
import io.keyrotor.api.v1.RotateZoneMasterKeyResponse;
import io.keyrotor.api.v1.SetPolicyRequest;
import io.keyrotor.api.v1.TakeSnapshotRequest;
import io.keyrotor.api.v1.TakeSnapshotResponse;
import io.keyrotor.api.v1.TestPolicyRequest;
import io.keyrotor.api.v1.TestPolicyResponse;
import io.keyrotor.api.v1.TransferLeadershipRequest;
import io.keyrotor.api.v1.TransferLeadershipResponse;
import io.keyrotor.client.CallRunner.RetryMode;
import java.util.concurrent.TimeUnit;

/**
 * The {@code AdminService} calls of {@link KeyrotorClient}: cluster and node status, leadership,
 * membership, zone master keys, the authorisation policy and snapshots, each run by a {@link
 * CallRunner}. Declared here, in a package-private superclass, for the reason {@link
 * KeyServiceCalls} gives: code outside the package sees them only as methods of {@code
 * KeyrotorClient}.
 */
abstract class AdminServiceCalls extends KeyServiceCalls {
  private final EndpointPool pool;
  private final LeaderDiscovery discovery;

  AdminServiceCalls(CallRunner calls, EndpointPool pool, LeaderDiscovery discovery) {
    super(calls);
    this.pool = pool;
    this.discovery = discovery;
  }

  /**
   * The status of every node, as gathered by the node that answers; also teaches the client where
   * the leader is.
   */
  public ClusterStatus clusterStatus() {
    ClusterStatus status =
        calls.read(
            "GetClusterStatus",
            (e, t) -> e.admin(t).getClusterStatus(GetClusterStatusRequest.getDefaultInstance()));
    discovery.learn(status);
    return status;
  }

  /** The status of whichever node answers (the leader if known), from its own view. */
  public NodeStatus nodeStatus() {
    return calls.read(
        "GetNodeStatus",
        (e, t) -> e.admin(t).getNodeStatus(GetNodeStatusRequest.getDefaultInstance()));
  }

  /** The status of the node at {@code endpoint} ({@code host:port}), retried on that node only. */
  public NodeStatus nodeStatus(String endpoint) {
    return calls.on(
        Endpoints.validate(endpoint),
        "GetNodeStatus",
        RetryMode.SAFE,
        (e, t) -> e.admin(t).getNodeStatus(GetNodeStatusRequest.getDefaultInstance()));
  }

  /**
   * Asks the leader to hand leadership to {@code targetNodeId} (empty: the cluster chooses).
   * Retried only on UNAVAILABLE, since it carries no request id.
   */
  public TransferLeadershipResponse transferLeadership(String targetNodeId) {
    TransferLeadershipRequest request =
        TransferLeadershipRequest.newBuilder().setTargetNodeId(targetNodeId).build();
    TransferLeadershipResponse response =
        calls.writeWithoutRequestId(
            "TransferLeadership", (e, t) -> e.admin(t).transferLeadership(request));
    pool.forgetLeader(pool.leaderOrNull());
    return response;
  }

  /**
   * Adds a node to the cluster (ADMINISTER): it joins as a listener, catches up, proves it can
   * unwrap its zones' KEKs, then becomes a voter. The call waits for all of it, up to the request's
   * wait_seconds (default 120 s) plus a minute, whatever the client's deadline. Safe to retry: a
   * node already added is refused with NODE_ALREADY_MEMBER, a listener continues.
   */
  public AddNodeResponse addNode(AddNodeRequest request) {
    long nanos = membershipCallNanos(request.getWaitSeconds());
    return calls.writeWithoutRequestId("AddNode", (e, t) -> e.admin(nanos).addNode(request));
  }

  /** Removes a node from the cluster and its record from the registry (ADMINISTER). */
  public RemoveNodeResponse removeNode(String nodeId) {
    RemoveNodeRequest request = RemoveNodeRequest.newBuilder().setNodeId(nodeId).build();
    long nanos = membershipCallNanos(0);
    return calls.writeWithoutRequestId("RemoveNode", (e, t) -> e.admin(nanos).removeNode(request));
  }

  /** Adds the new node, then removes the old one (ADMINISTER); waits as {@link #addNode}. */
  public ReplaceNodeResponse replaceNode(ReplaceNodeRequest request) {
    long nanos = membershipCallNanos(request.getNewNode().getWaitSeconds());
    return calls.writeWithoutRequestId(
        "ReplaceNode", (e, t) -> e.admin(nanos).replaceNode(request));
  }

  private static long membershipCallNanos(int waitSeconds) {
    return TimeUnit.SECONDS.toNanos((waitSeconds == 0 ? 120L : waitSeconds) + 60L);
  }

  /**
   * Starts (or resumes) the rotation of a zone's master key: every KEK of the zone is rewrapped
   * under the new master key version through the log. Returns once the rotation is recorded; its
   * progress shows in {@link #nodeStatus()} ({@code zone_master_key_rotations}).
   */
  public RotateZoneMasterKeyResponse rotateZoneMasterKey(RotateZoneMasterKeyRequest request) {
    return calls.write(
        "RotateZoneMasterKey", request, (e, t, sent) -> e.admin(t).rotateZoneMasterKey(sent));
  }

  /** Retires an old master key version of a zone once no KEK is wrapped under it. */
  public RetireZoneMasterKeyVersionResponse retireZoneMasterKeyVersion(
      RetireZoneMasterKeyVersionRequest request) {
    return calls.write(
        "RetireZoneMasterKeyVersion",
        request,
        (e, t, sent) -> e.admin(t).retireZoneMasterKeyVersion(sent));
  }

  /** The authorisation policy in force (needs ADMINISTER). */
  public AuthorizationPolicy getPolicy() {
    return calls.read(
        "GetPolicy", (e, t) -> e.admin(t).getPolicy(GetPolicyRequest.getDefaultInstance()));
  }

  /**
   * Replaces the authorisation policy (needs ADMINISTER); {@code request.expected_version} makes it
   * a compare-and-set. Returns the new policy with its version.
   */
  public AuthorizationPolicy setPolicy(SetPolicyRequest request) {
    return calls.write("SetPolicy", request, (e, t, sent) -> e.admin(t).setPolicy(sent));
  }

  /** Would a principal be allowed a permission on a key with a context, and by which binding. */
  public TestPolicyResponse testPolicy(TestPolicyRequest request) {
    return calls.read("TestPolicy", (e, t) -> e.admin(t).testPolicy(request));
  }

  /** Asks the node at {@code endpoint} to take a snapshot of its state now. */
  public TakeSnapshotResponse takeSnapshot(String endpoint) {
    return calls.on(
        Endpoints.validate(endpoint),
        "TakeSnapshot",
        RetryMode.UNAVAILABLE_ONLY,
        (e, t) -> e.admin(t).takeSnapshot(TakeSnapshotRequest.getDefaultInstance()));
  }
}
