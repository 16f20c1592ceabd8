package io.keyrotor.client.testing;

import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import java.util.concurrent.atomic.AtomicInteger;

/** Answers cluster and node status with whatever the test set. */
public class FakeAdminService extends AdminServiceGrpc.AdminServiceImplBase {

  private volatile ClusterStatus clusterStatus = ClusterStatus.getDefaultInstance();
  private volatile NodeStatus nodeStatus = NodeStatus.getDefaultInstance();
  private final AtomicInteger clusterStatusCalls = new AtomicInteger();

  /**
   * A member of a cluster status: {@code id} in {@code role}, serving the API at {@code address}.
   */
  public static NodeStatus member(String id, NodeRole role, String address) {
    return NodeStatus.newBuilder().setId(id).setRole(role).setApiAddress(address).build();
  }

  public FakeAdminService clusterStatus(ClusterStatus status) {
    this.clusterStatus = status;
    return this;
  }

  public FakeAdminService nodeStatus(NodeStatus status) {
    this.nodeStatus = status;
    return this;
  }

  private volatile io.keyrotor.api.v1.ZoneMasterKeyRotation rotation =
      io.keyrotor.api.v1.ZoneMasterKeyRotation.getDefaultInstance();
  private volatile io.keyrotor.api.v1.RotateZoneMasterKeyRequest lastRotateRequest;

  /** What RotateZoneMasterKey and RetireZoneMasterKeyVersion answer. */
  public FakeAdminService rotation(io.keyrotor.api.v1.ZoneMasterKeyRotation rotation) {
    this.rotation = rotation;
    return this;
  }

  public io.keyrotor.api.v1.RotateZoneMasterKeyRequest lastRotateRequest() {
    return lastRotateRequest;
  }

  @Override
  public void rotateZoneMasterKey(
      io.keyrotor.api.v1.RotateZoneMasterKeyRequest request,
      StreamObserver<io.keyrotor.api.v1.RotateZoneMasterKeyResponse> observer) {
    lastRotateRequest = request;
    observer.onNext(
        io.keyrotor.api.v1.RotateZoneMasterKeyResponse.newBuilder().setRotation(rotation).build());
    observer.onCompleted();
  }

  public int clusterStatusCalls() {
    return clusterStatusCalls.get();
  }

  @Override
  public void getClusterStatus(
      GetClusterStatusRequest request, StreamObserver<ClusterStatus> observer) {
    clusterStatusCalls.incrementAndGet();
    observer.onNext(clusterStatus);
    observer.onCompleted();
  }

  private volatile io.keyrotor.api.v1.AddNodeRequest lastAddNodeRequest;

  /** The last AddNode request; null before any. */
  public io.keyrotor.api.v1.AddNodeRequest lastAddNodeRequest() {
    return lastAddNodeRequest;
  }

  /**
   * Answers AddNode as a cluster of n1..n3 would: the node a voter, or a listener (read replica)
   * when the request says so.
   */
  @Override
  public void addNode(
      io.keyrotor.api.v1.AddNodeRequest request,
      StreamObserver<io.keyrotor.api.v1.AddNodeResponse> observer) {
    lastAddNodeRequest = request;
    var response =
        io.keyrotor.api.v1.AddNodeResponse.newBuilder()
            .addAllVoters(java.util.List.of("n1", "n2", "n3"))
            .addVerifiedZones("default");
    if (request.getReplica()) {
      response.addListeners(request.getNodeId());
    } else {
      response.addVoters(request.getNodeId());
    }
    observer.onNext(response.build());
    observer.onCompleted();
  }

  @Override
  public void getNodeStatus(GetNodeStatusRequest request, StreamObserver<NodeStatus> observer) {
    observer.onNext(nodeStatus);
    observer.onCompleted();
  }
}
