package io.keyrotor.client.testing;

import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import java.util.concurrent.atomic.AtomicInteger;

/** Answers cluster and node status with whatever the test set. */
public class FakeAdminService extends AdminServiceGrpc.AdminServiceImplBase {

  private volatile ClusterStatus clusterStatus = ClusterStatus.getDefaultInstance();
  private volatile NodeStatus nodeStatus = NodeStatus.getDefaultInstance();
  private final AtomicInteger clusterStatusCalls = new AtomicInteger();

  public FakeAdminService clusterStatus(ClusterStatus status) {
    this.clusterStatus = status;
    return this;
  }

  public FakeAdminService nodeStatus(NodeStatus status) {
    this.nodeStatus = status;
    return this;
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

  @Override
  public void getNodeStatus(GetNodeStatusRequest request, StreamObserver<NodeStatus> observer) {
    observer.onNext(nodeStatus);
    observer.onCompleted();
  }
}
