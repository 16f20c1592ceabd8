package io.keyrotor.server.api;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.AddNodeRequest;
import io.keyrotor.api.v1.AddNodeResponse;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.GetPolicyRequest;
import io.keyrotor.api.v1.HsmStatus;
import io.keyrotor.api.v1.LimitStatus;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.Permission;
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
import io.keyrotor.consensus.RaftStatus;
import io.keyrotor.hsm.HsmDescription;
import io.keyrotor.proto.internal.v1.SetAuthorizationPolicy;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.PolicyAuthorizer;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.clock.ClockGuard;
import io.keyrotor.server.clock.ClockProbe;
import io.keyrotor.server.config.LimitSettings;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.transport.ApiTransport;
import io.keyrotor.storage.access.AccessDecision;
import io.keyrotor.storage.access.PolicyRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Cluster administration. GetClusterStatus asks every peer for its own status in parallel, with a
 * short deadline, so one unreachable node shows as UNREACHABLE instead of stalling the answer.
 */
public final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase
    implements AutoCloseable {
  private static final long PEER_STATUS_DEADLINE_MILLIS = 1_500;

  private final ServerContext context;
  private final ExecutorService blockingExecutor;
  private final Map<String, ManagedChannel> peerChannels = new ConcurrentHashMap<>();
  private final ZoneMasterKeyAdmin zoneMasterKeys;
  private final MembershipAdmin membership;
  private final WritePath writes;
  private final Calls calls;
  private final ApiTransport transport;
  private final ClockGuard clockGuard;

  /**
   * @param blockingExecutor where peers are asked and leadership and snapshots wait
   * @param rotationErrors this node's last error driving a zone's master key rotation, or null
   * @param writes the write path of the calls that change state
   * @param transport the API's transport security: shown in the status, and how peers are asked
   * @param clockGuard the node's clock against its peers': shown in the status
   */
  public AdminServiceImpl(
      ServerContext context,
      ExecutorService blockingExecutor,
      Function<String, String> rotationErrors,
      WritePath writes,
      ApiTransport transport,
      ClockGuard clockGuard) {
    this.context = context;
    this.transport = transport;
    this.clockGuard = clockGuard;
    this.blockingExecutor = blockingExecutor;
    this.writes = writes;
    this.calls = new Calls(context);
    this.zoneMasterKeys = new ZoneMasterKeyAdmin(context, writes, this::peerStatus, rotationErrors);
    this.membership = new MembershipAdmin(context, blockingExecutor, writes, this::peerStatus);
  }

  @Override
  public void getNodeStatus(GetNodeStatusRequest request, StreamObserver<NodeStatus> response) {
    calls.answer(
        response,
        () -> {
          writes.authorize(Operation.GET_NODE_STATUS, Target.cluster());
          return CompletableFuture.completedFuture(
              ClockProbe.isProbeCall() ? clockStatus() : localStatus());
        });
  }

  @Override
  public void getClusterStatus(
      GetClusterStatusRequest request, StreamObserver<ClusterStatus> response) {
    try {
      writes.authorize(Operation.GET_CLUSTER_STATUS, Target.cluster());
    } catch (StatusRuntimeException refused) {
      response.onError(refused);
      return;
    }
    // Every outcome, failures included, is answered from the callback.
    var unusedAnswer =
        clusterStatus()
            .whenComplete(
                (status, failure) -> {
                  if (failure != null) {
                    response.onError(failure);
                  } else {
                    response.onNext(status);
                    response.onCompleted();
                  }
                });
  }

  /**
   * The cluster's status: this node's own and every peer's (asked in parallel with a short
   * deadline; an unreachable one is UNREACHABLE). Not authorised here: GetClusterStatus and the
   * HTTPS status page each authorise their caller first.
   */
  public CompletableFuture<ClusterStatus> clusterStatus() {
    List<CompletableFuture<NodeStatus>> futures = new ArrayList<>();
    for (NodeConfig.Peer peer : context.members().values()) {
      if (peer.id().equals(context.config().nodeId())) {
        futures.add(CompletableFuture.completedFuture(localStatus()));
      } else {
        futures.add(CompletableFuture.supplyAsync(() -> peerStatus(peer), blockingExecutor));
      }
    }
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .thenApply(
            ignored -> {
              ClusterStatus.Builder out = ClusterStatus.newBuilder();
              for (CompletableFuture<NodeStatus> future : futures) {
                NodeStatus status = future.join();
                out.addNodes(status);
                if (status.getRole() == NodeRole.NODE_ROLE_LEADER) {
                  out.setLeaderId(status.getId());
                }
              }
              if (out.getLeaderId().isEmpty()) {
                String leader = context.raft().status().leaderIdOrNull();
                out.setLeaderId(leader == null ? "" : leader);
              }
              out.setActiveClusterVersion(context.raft().state().activeClusterVersion());
              return out.build();
            });
  }

  /**
   * TransferLeadership and TakeSnapshot change no replicated state and take no log entry, but they
   * change the cluster: they pass the write path's authorisation step, then wait on the blocking
   * executor, and fail through the one error mapper.
   */
  @Override
  public void transferLeadership(
      TransferLeadershipRequest request, StreamObserver<TransferLeadershipResponse> response) {
    String target = request.getTargetNodeId();
    calls.answer(
        response,
        () -> {
          var voters = context.raft().members().voters().keySet();
          if (!target.isEmpty() && !voters.contains(target)) {
            throw ApiErrors.invalid(
                "target_node_id",
                ErrorReason.UNKNOWN_NODE,
                "node \"" + target + "\" is not a voting member; voters: " + voters);
          }
          writes.authorize(Operation.TRANSFER_LEADERSHIP, Target.cluster());
          return CompletableFuture.runAsync(
                  () -> context.raft().transferLeadership(target, 10_000), blockingExecutor)
              .thenApply(
                  ignored -> {
                    String leader = context.raft().status().leaderIdOrNull();
                    return TransferLeadershipResponse.newBuilder()
                        .setLeaderId(leader == null ? "" : leader)
                        .build();
                  });
        });
  }

  @Override
  public void takeSnapshot(
      TakeSnapshotRequest request, StreamObserver<TakeSnapshotResponse> response) {
    calls.answer(
        response,
        () -> {
          writes.authorize(Operation.TAKE_SNAPSHOT, Target.cluster());
          return CompletableFuture.supplyAsync(
                  () -> context.raft().takeSnapshot(30_000), blockingExecutor)
              .thenApply(
                  index -> TakeSnapshotResponse.newBuilder().setSnapshotIndex(index).build());
        });
  }

  @Override
  public void rotateZoneMasterKey(
      RotateZoneMasterKeyRequest request, StreamObserver<RotateZoneMasterKeyResponse> response) {
    zoneMasterKeys.rotate(request, response);
  }

  @Override
  public void retireZoneMasterKeyVersion(
      RetireZoneMasterKeyVersionRequest request,
      StreamObserver<RetireZoneMasterKeyVersionResponse> response) {
    zoneMasterKeys.retire(request, response);
  }

  // ---------------------------------------------------------------- membership

  @Override
  public void addNode(AddNodeRequest request, StreamObserver<AddNodeResponse> response) {
    membership.addNode(request, response);
  }

  @Override
  public void removeNode(RemoveNodeRequest request, StreamObserver<RemoveNodeResponse> response) {
    membership.removeNode(request, response);
  }

  @Override
  public void replaceNode(
      ReplaceNodeRequest request, StreamObserver<ReplaceNodeResponse> response) {
    membership.replaceNode(request, response);
  }

  // ---------------------------------------------------------------- the authorisation policy

  @Override
  public void getPolicy(GetPolicyRequest request, StreamObserver<AuthorizationPolicy> response) {
    calls.answer(
        response,
        () -> {
          writes.authorize(Operation.GET_POLICY, Target.cluster());
          return calls.afterReadBarrier(state -> state.accessPolicy().policy());
        });
  }

  /**
   * SetPolicy: checked here (INVALID_ARGUMENT INVALID_ACCESS_POLICY) and again at apply, where the
   * compare-and-set on the version and the caller's ADMINISTER permission are decided at the
   * command's log index. Answers the policy as this node shows it once it applied the command.
   */
  @Override
  public void setPolicy(SetPolicyRequest request, StreamObserver<AuthorizationPolicy> response) {
    calls.answer(
        response,
        () -> {
          PolicyRules.problem(request.getPolicy())
              .ifPresent(
                  problem -> {
                    throw ApiErrors.invalid("policy", ErrorReason.INVALID_ACCESS_POLICY, problem);
                  });
          Write write =
              Write.fromRequest(
                  Operation.SET_POLICY,
                  Target.cluster(),
                  Requests.requestId(request.getRequestId()),
                  (command, sources) ->
                      command.setSetAuthorizationPolicy(
                          SetAuthorizationPolicy.newBuilder()
                              .setPolicy(
                                  request.getPolicy().toBuilder().clearVersion().clearSetBy())
                              .setExpectedVersion(request.getExpectedVersion())));
          return writes
              .submit(write)
              .thenCompose(
                  result -> calls.afterReadBarrier(state -> state.accessPolicy().policy()));
        });
  }

  /** TestPolicy: the decision this node's applied policy makes, after the read barrier. */
  @Override
  public void testPolicy(TestPolicyRequest request, StreamObserver<TestPolicyResponse> response) {
    calls.answer(
        response,
        () -> {
          writes.authorize(Operation.TEST_POLICY, Target.cluster());
          if (request.getPrincipal().isEmpty()
              || request.getPermission() == Permission.PERMISSION_UNSPECIFIED
              || request.getPermission() == Permission.UNRECOGNIZED) {
            throw ApiErrors.invalid(
                request.getPrincipal().isEmpty() ? "principal" : "permission",
                ErrorReason.INVALID_ACCESS_POLICY,
                "TestPolicy needs a principal and a permission");
          }
          Target target =
              request.getKeyName().isEmpty() ? Target.cluster() : Target.key(request.getKeyName());
          return calls.afterReadBarrier(
              state -> {
                AccessDecision decision =
                    PolicyAuthorizer.decide(
                        state,
                        request.getPrincipal(),
                        request.getPermission(),
                        target,
                        request.getContextMap());
                return TestPolicyResponse.newBuilder()
                    .setAllowed(decision.allowed())
                    .setBinding(decision.binding())
                    .setExplanation(decision.explanation())
                    .setPolicyVersion(state.accessPolicy().version())
                    .build();
              });
        });
  }

  /** This node's own status. */
  public NodeStatus localStatus() {
    RaftStatus raft = context.raft().status();
    var store = context.raft().state();
    HsmDescription hsm = context.hsm().describe();
    NodeStatus.Builder out =
        NodeStatus.newBuilder()
            .setId(context.config().nodeId())
            .setRegion(context.config().region())
            .setRole(role(raft.role()))
            .setTerm(raft.term())
            .setAppliedIndex(Math.max(0, store.appliedPosition().index()))
            .setCommitIndex(Math.max(0, raft.commitIndex()))
            .setStateDigest(store.digest())
            .setLeaderId(raft.leaderIdOrNull() == null ? "" : raft.leaderIdOrNull())
            .setApiAddress(context.config().apiAddress())
            .addAllZones(context.config().zones())
            .setHsm(
                HsmStatus.newBuilder()
                    .setKind(hsm.kind())
                    .setModule(hsm.module())
                    .setTokenLabel(hsm.tokenLabel())
                    .addAllMechanisms(hsm.mechanisms().stream().map(Enum::name).toList())
                    .setHealthy(hsm.healthy()))
            .setSnapshotIndex(Math.max(0, raft.snapshotIndex()))
            .setKeyCount(store.keyCount())
            .setTransportSecurity(transport.status())
            // The raw wall clock: peers measure this node's clock from it.
            .setClockUnixMillis(clockGuard.wallClock().millis())
            .setClock(clockGuard.assess().toProto())
            .addAllThrottled(writes.authorizer().throttled())
            .setStateIntegrity(store.integrity().state().name())
            .setStateIntegrityDetail(store.integrity().detail())
            .setSupportedClusterVersion(context.config().upgrade().maxSupportedVersion())
            .setActiveClusterVersion(store.activeClusterVersion());
    var cache = store.keyCacheStatus();
    out.setKeyCacheEntries(cache.entries())
        .setKeyCacheBytes(cache.bytes())
        .setKeyCacheCapacityBytes(cache.capacityBytes());
    LimitSettings limits = context.config().limits();
    for (LimitSettings.Limit limit : LimitSettings.Limit.values()) {
      out.addLimits(
          LimitStatus.newBuilder()
              .setSetting(limit.setting())
              .setValue(limits.get(limit))
              .setCeiling(limit.ceiling()));
    }
    out.addAllZoneMasterKeyRotations(zoneMasterKeys.rotations())
        .addAllZoneMasterKeys(zoneMasterKeys.heldVersions());
    return out.build();
  }

  /**
   * What a peer's clock probe gets: this node's identity and clock, nothing that asks the HSM or
   * walks the state.
   */
  private NodeStatus clockStatus() {
    return NodeStatus.newBuilder()
        .setId(context.config().nodeId())
        .setApiAddress(context.config().apiAddress())
        .setClockUnixMillis(clockGuard.wallClock().millis())
        .setClock(clockGuard.assess().toProto())
        .build();
  }

  private NodeStatus peerStatus(NodeConfig.Peer peer) {
    if (peer.apiAddress().isEmpty()) {
      return NodeStatus.newBuilder()
          .setId(peer.id())
          .setRole(NodeRole.NODE_ROLE_UNREACHABLE)
          .setError("its API address is not known yet (it has not registered)")
          .build();
    }
    ManagedChannel channel =
        peerChannels.computeIfAbsent(peer.id(), id -> transport.channelTo(peer.apiAddress()));
    try {
      return AdminServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(PEER_STATUS_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
          .getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      return NodeStatus.newBuilder()
          .setId(peer.id())
          .setRole(NodeRole.NODE_ROLE_UNREACHABLE)
          .setApiAddress(peer.apiAddress())
          .setError(e.getStatus().getCode() + ": " + e.getStatus().getDescription())
          .build();
    }
  }

  private static NodeRole role(String raftRole) {
    return switch (raftRole) {
      case "LEADER" -> NodeRole.NODE_ROLE_LEADER;
      case "FOLLOWER" -> NodeRole.NODE_ROLE_FOLLOWER;
      case "CANDIDATE" -> NodeRole.NODE_ROLE_CANDIDATE;
      case "LISTENER" -> NodeRole.NODE_ROLE_LISTENER;
      default -> NodeRole.NODE_ROLE_UNSPECIFIED;
    };
  }

  @Override
  public void close() {
    peerChannels.values().forEach(ManagedChannel::shutdownNow);
  }
}
