package io.keyrotor.server.api;

import com.google.rpc.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.AddNodeRequest;
import io.keyrotor.api.v1.AddNodeResponse;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RemoveNodeRequest;
import io.keyrotor.api.v1.RemoveNodeResponse;
import io.keyrotor.api.v1.ReplaceNodeRequest;
import io.keyrotor.api.v1.ReplaceNodeResponse;
import io.keyrotor.consensus.GroupMembers;
import io.keyrotor.consensus.MembershipChangeException;
import io.keyrotor.proto.internal.v1.AdmitNode;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RemoveNode;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Principal;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.storage.version.ApplyFeature;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * AddNode, RemoveNode and ReplaceNode: changes of the Raft group's members, one node at a time.
 *
 * <p>AddNode records the node in the registry with its Raft address (AdmitNode, so the members
 * trust its certificate on the Raft port), adds it as a non-voting listener (it catches up from a
 * snapshot and the log, and counts for no majority), waits until its own registration says it
 * unwrapped a KEK of each of its zones with its HSM at an index it had caught up to, and only then
 * makes it a voter (Ratis brings a new voter up to date before the configuration that counts it is
 * committed). With {@code replica} set, the proven listener stays one: a read replica, which serves
 * reads and its zones' data plane and counts for no majority; AddNode of a replica without it
 * promotes the replica the same way. RemoveNode refuses what would leave the group without a
 * working majority, changes the configuration without the node, then removes its record
 * (RemoveNode), which releases every validation gate that waited for it. Each step is idempotent,
 * so a retried call continues where the last one stopped; a retry after the removal completed finds
 * it in the audit trail ({@link NodeRemovals}) and answers success with {@code already_removed},
 * and a retried ReplaceNode does what is left of it ({@link ReplacementProgress}), answering {@code
 * already_replaced} when nothing is. Runs on the blocking executor: the steps wait on Ratis and on
 * the new node. All three are refused with FEATURE_NOT_ACTIVE until the cluster version applies the
 * membership commands ({@link ApplyFeature#MEMBERSHIP_COMMANDS}).
 *
 * <p>About 500 lines because the three calls share private steps (proof, configuration change,
 * quorum check, removal lookup) that no other class should reach.
 */
final class MembershipAdmin {
  private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9.:\\[\\]_-]{1,253}:\\d{1,5}");
  private static final int DEFAULT_WAIT_SECONDS = 120;
  private static final int MAX_WAIT_SECONDS = 600;
  private static final long POLL_MILLIS = 200;

  private final ServerContext context;
  private final ExecutorService blockingExecutor;
  private final WritePath writes;
  private final Calls calls;
  private final Function<NodeConfig.Peer, NodeStatus> peerStatus;

  MembershipAdmin(
      ServerContext context,
      ExecutorService blockingExecutor,
      WritePath writes,
      Function<NodeConfig.Peer, NodeStatus> peerStatus) {
    this.context = context;
    this.blockingExecutor = blockingExecutor;
    this.writes = writes;
    this.calls = new Calls(context);
    this.peerStatus = peerStatus;
  }

  void addNode(AddNodeRequest request, StreamObserver<AddNodeResponse> response) {
    calls.answer(
        response,
        () -> {
          checkAddition(request);
          writes.authorize(Operation.ADD_NODE, Target.cluster());
          requireMembershipCommands("AddNode");
          String principal = principal();
          return CompletableFuture.supplyAsync(() -> add(request, principal), blockingExecutor);
        });
  }

  void removeNode(RemoveNodeRequest request, StreamObserver<RemoveNodeResponse> response) {
    calls.answer(
        response,
        () -> {
          String id = request.getNodeId();
          checkId(id, "node_id");
          writes.authorize(Operation.REMOVE_NODE, Target.cluster());
          requireMembershipCommands("RemoveNode");
          String principal = principal();
          return CompletableFuture.supplyAsync(() -> remove(id, principal), blockingExecutor);
        });
  }

  void replaceNode(ReplaceNodeRequest request, StreamObserver<ReplaceNodeResponse> response) {
    calls.answer(
        response,
        () -> {
          String old = request.getOldNodeId();
          checkId(old, "old_node_id");
          checkAddition(request.getNewNode());
          if (old.equals(request.getNewNode().getNodeId())) {
            throw ApiErrors.invalid(
                "old_node_id",
                ErrorReason.INVALID_ARGUMENT,
                "the old and the new node must differ");
          }
          writes.authorize(Operation.REPLACE_NODE, Target.cluster());
          requireMembershipCommands("ReplaceNode");
          String principal = principal();
          return CompletableFuture.supplyAsync(
              () -> replace(old, request.getNewNode(), principal), blockingExecutor);
        });
  }

  /**
   * AddNode of the new node, then RemoveNode of the old one, continuing where an earlier call
   * stopped ({@link ReplacementProgress}). The read barrier first makes this node's view at least
   * as new as the leader's commit at the call, so what another node did and answered is seen here.
   */
  private ReplaceNodeResponse replace(String old, AddNodeRequest newNode, String principal) {
    context.bounded(context.raft().readBarrier()).join();
    String id = newNode.getNodeId();
    GroupMembers members = context.raft().members();
    Map<String, NodeRecord> registry = context.raft().state().nodes();
    Optional<AuditRecord> removal =
        members.contains(old) || registry.containsKey(old)
            ? Optional.empty()
            : NodeRemovals.lastRemoval(context.raft().state(), old);
    ReplacementProgress progress =
        ReplacementProgress.of(
            old,
            id,
            members.all().keySet(),
            members.voters().keySet(),
            registry.keySet(),
            removal.isPresent());
    List<String> verifiedZones =
        registry.containsKey(id) ? registry.get(id).getVerifiedZonesList() : List.of();
    switch (progress) {
      case DONE -> {
        return ReplaceNodeResponse.newBuilder()
            .addAllVoters(members.voters().keySet())
            .addAllVerifiedZones(verifiedZones)
            .setAlreadyReplaced(true)
            .setRemovalLogIndex(removal.orElseThrow().getLogIndex())
            .build();
      }
      case NOT_A_REPLACEMENT -> {
        if (removal.isEmpty()) {
          throw unknown(old);
        }
        throw ApiErrors.error(
            Code.NOT_FOUND,
            ErrorReason.UNKNOWN_NODE,
            "node "
                + old
                + " was removed (log index "
                + removal.get().getLogIndex()
                + ") but "
                + id
                + " is not a voting member, so no replacement of "
                + old
                + " by "
                + id
                + " completed; voters: "
                + members.voters().keySet());
      }
      case ADD_NEW -> verifiedZones = add(newNode, principal).getVerifiedZonesList();
      case REMOVE_OLD -> {
        // An earlier call added the new node and was cut off before the removal.
      }
    }
    List<String> voters = remove(old, principal).getVotersList();
    return ReplaceNodeResponse.newBuilder()
        .addAllVoters(voters)
        .addAllVerifiedZones(verifiedZones)
        .build();
  }

  // ---------------------------------------------------------------- AddNode

  private AddNodeResponse add(AddNodeRequest request, String principal) {
    String id = request.getNodeId();
    GroupMembers members = context.raft().members();
    if (members.voters().containsKey(id)) {
      throw failed(
          ErrorReason.NODE_ALREADY_MEMBER,
          "node "
              + id
              + " is already a voting member; voters: "
              + members.voters().keySet()
              + (request.getReplica()
                  ? " (a voter is not turned into a read replica: remove it, then add it with"
                      + " replica set)"
                  : ""));
    }
    for (Map.Entry<String, String> member : members.all().entrySet()) {
      if (!member.getKey().equals(id) && member.getValue().equals(request.getRaftAddress())) {
        throw failed(
            ErrorReason.NODE_ALREADY_MEMBER,
            "member "
                + member.getKey()
                + " already uses the Raft address "
                + request.getRaftAddress());
      }
    }
    propose(
        principal,
        Command.newBuilder()
            .setAdmitNode(
                AdmitNode.newBuilder()
                    .setNode(
                        NodeRecord.newBuilder()
                            .setId(id)
                            .setRegion(request.getRegion())
                            .setApiAddress(request.getApiAddress())
                            .setRaftAddress(request.getRaftAddress()))));
    if (!members.listeners().containsKey(id)) {
      SortedMap<String, String> listeners = new TreeMap<>(members.listeners());
      listeners.put(id, request.getRaftAddress());
      change(members, members.voters(), listeners);
    }
    long waitSeconds =
        request.getWaitSeconds() == 0 ? DEFAULT_WAIT_SECONDS : request.getWaitSeconds();
    NodeRecord proven = awaitProof(id, request.getRegion(), waitSeconds);
    if (!request.getReplica()) {
      promote(id, request.getRaftAddress());
    }
    GroupMembers after = context.raft().members();
    return AddNodeResponse.newBuilder()
        .addAllVoters(after.voters().keySet())
        .addAllListeners(after.listeners().keySet())
        .addAllVerifiedZones(proven.getVerifiedZonesList())
        .setVerifiedIndex(proven.getVerifiedIndex())
        .build();
  }

  /**
   * Makes the proven listener a voter in two configuration changes: first without it, then with it
   * as a voter. Ratis marks a follower as caught up only when it bootstraps it as a new voter
   * (staging); a listener turned voter in one change keeps being sent appends flagged as
   * "initializing", so its server never leaves the STARTING state: it would vote but never lead or
   * serve a read barrier. Added afresh, it is staged (its log is already current, so staging is
   * quick), marked caught up, and starts as a full follower. Between the two changes it is not in
   * the group; its record (AdmitNode) keeps its Raft certificate trusted.
   */
  private void promote(String id, String raftAddress) {
    GroupMembers now = context.raft().members();
    if (now.listeners().containsKey(id)) {
      SortedMap<String, String> listeners = new TreeMap<>(now.listeners());
      listeners.remove(id);
      change(now, now.voters(), listeners);
      now = awaitLocalView(m -> !m.contains(id));
    }
    if (!now.voters().containsKey(id)) {
      SortedMap<String, String> voters = new TreeMap<>(now.voters());
      voters.put(id, raftAddress);
      change(now, voters, now.listeners());
    }
  }

  /**
   * This node's view of the group once it shows {@code condition}: a committed change reaches this
   * node's log a little after the leader answered, and the next change compares with this view.
   */
  private GroupMembers awaitLocalView(Predicate<GroupMembers> condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    GroupMembers now = context.raft().members();
    while (!condition.test(now) && System.nanoTime() - deadline < 0) {
      context.bounded(context.raft().readBarrier()).join();
      sleep(POLL_MILLIS);
      now = context.raft().members();
    }
    return now;
  }

  /**
   * Waits until the node's own registration, applied here, proves every zone it serves, and returns
   * it. The node registers only once it caught up, so this is also the catch-up.
   */
  private NodeRecord awaitProof(String id, String region, long waitSeconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
    NodeRecord last = null;
    while (System.nanoTime() - deadline < 0) {
      context.bounded(context.raft().readBarrier()).join();
      last = context.raft().state().nodes().get(id);
      if (last != null
          && last.getZonesCount() > 0
          && last.getVerifiedZonesList().containsAll(last.getZonesList())) {
        if (!last.getRegion().equals(region)) {
          throw failed(
              ErrorReason.NODE_NOT_READY,
              "node "
                  + id
                  + " registered region \""
                  + last.getRegion()
                  + "\", not \""
                  + region
                  + "\"; it stays a non-voting listener: remove it or add it with its region");
        }
        return last;
      }
      sleep(POLL_MILLIS);
    }
    String seen =
        last == null || last.getZonesCount() == 0
            ? "it has not registered (is it running with cluster.join=true, and caught up?)"
            : "it serves zones "
                + last.getZonesList()
                + " but proved only "
                + last.getVerifiedZonesList()
                + " (does its HSM hold every zone's master key? see scripts/hsm share-zone)";
    throw failed(
        ErrorReason.NODE_NOT_READY,
        "node "
            + id
            + " did not catch up and prove its zones within "
            + waitSeconds
            + " s: "
            + seen
            + "; it stays a non-voting listener: fix it and add it again, or remove it");
  }

  // ---------------------------------------------------------------- RemoveNode

  /**
   * Removes {@code id}, or, when it is neither a member nor in the registry, answers the earlier
   * removal that took it out (a retried call) or NOT_FOUND when it has none. The read barrier first
   * makes this node's view at least as new as the leader's commit at the call, so a removal that
   * another node made and answered is seen here.
   */
  private RemoveNodeResponse remove(String id, String principal) {
    context.bounded(context.raft().readBarrier()).join();
    GroupMembers members = context.raft().members();
    if (!members.contains(id) && !context.raft().state().nodes().containsKey(id)) {
      AuditRecord removal =
          NodeRemovals.lastRemoval(context.raft().state(), id).orElseThrow(() -> unknown(id));
      return RemoveNodeResponse.newBuilder()
          .addAllVoters(members.voters().keySet())
          .setAlreadyRemoved(true)
          .setRemovalLogIndex(removal.getLogIndex())
          .build();
    }
    if (members.contains(id)) {
      SortedMap<String, String> voters = new TreeMap<>(members.voters());
      voters.remove(id);
      SortedMap<String, String> listeners = new TreeMap<>(members.listeners());
      listeners.remove(id);
      if (members.voters().containsKey(id)) {
        checkQuorum(id, voters);
      }
      change(members, voters, listeners);
    }
    if (context.raft().state().nodes().containsKey(id)) {
      try {
        propose(
            principal, Command.newBuilder().setRemoveNode(RemoveNode.newBuilder().setNodeId(id)));
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != io.grpc.Status.Code.NOT_FOUND) {
          throw e;
        }
        // The record left the registry between the read and the apply: an earlier call (the one
        // this retry repeats) removed it first. The removal took effect: answer it as done.
        RemoveNodeResponse.Builder done =
            RemoveNodeResponse.newBuilder()
                .addAllVoters(context.raft().members().voters().keySet())
                .setAlreadyRemoved(true);
        NodeRemovals.lastRemoval(context.raft().state(), id)
            .ifPresent(removal -> done.setRemovalLogIndex(removal.getLogIndex()));
        return done.build();
      }
    }
    return RemoveNodeResponse.newBuilder()
        .addAllVoters(context.raft().members().voters().keySet())
        .build();
  }

  /**
   * Refuses a removal that leaves no voter, or fewer voters that answer now than a majority of the
   * voters that remain.
   */
  private void checkQuorum(String id, SortedMap<String, String> remaining) {
    if (remaining.isEmpty()) {
      throw failed(
          ErrorReason.MEMBERSHIP_QUORUM_AT_RISK,
          "node " + id + " is the last voter; add another node before removing it");
    }
    int needed = remaining.size() / 2 + 1;
    List<String> unreachable = new ArrayList<>();
    Map<String, NodeConfig.Peer> peers = context.members();
    for (String voter : remaining.keySet()) {
      if (voter.equals(context.config().nodeId())) {
        continue;
      }
      NodeConfig.Peer peer = peers.get(voter);
      NodeStatus status = peer == null ? null : peerStatus.apply(peer);
      if (status == null || status.getRole() == NodeRole.NODE_ROLE_UNREACHABLE) {
        unreachable.add(voter);
      }
    }
    int answering = remaining.size() - unreachable.size();
    if (answering < needed) {
      throw failed(
          ErrorReason.MEMBERSHIP_QUORUM_AT_RISK,
          "without node "
              + id
              + " the voters would be "
              + remaining.keySet()
              + ", of which "
              + unreachable
              + " do not answer: "
              + answering
              + " of the "
              + needed
              + " needed for a majority; bring them back first");
    }
  }

  // ---------------------------------------------------------------- shared steps

  private void change(
      GroupMembers current, Map<String, String> voters, Map<String, String> listeners) {
    try {
      context.raft().changeMembers(current, voters, listeners);
    } catch (MembershipChangeException e) {
      throw failed(
          ErrorReason.MEMBERSHIP_CHANGE_IN_PROGRESS,
          "the Raft group is changing already (" + e.getMessage() + "); retry once it completed");
    }
  }

  private void propose(String principal, Command.Builder body) {
    Command command =
        body.setRequestId("membership:" + UUID.randomUUID())
            .setOriginNode(context.config().nodeId())
            .setPrincipal(principal)
            .build();
    CommandResult result = context.bounded(context.raft().propose(command)).join();
    if (result.getOutcome().getCode() != Code.OK_VALUE) {
      throw ApiErrors.fromOutcome(result.getOutcome());
    }
  }

  private static String principal() {
    return Caller.current().map(Principal::name).orElseThrow();
  }

  /**
   * Refuses a membership change (FEATURE_NOT_ACTIVE) while the cluster runs below the version that
   * applies AdmitNode and RemoveNode: a voter on the base binary would refuse them where the others
   * apply them, and the cluster would split.
   */
  private void requireMembershipCommands(String call) {
    ClusterFeatures.require(
        context.raft().state(), ApplyFeature.MEMBERSHIP_COMMANDS, call + " (a membership change)");
  }

  private static void checkAddition(AddNodeRequest request) {
    checkId(request.getNodeId(), "node_id");
    checkAddress(request.getRaftAddress(), "raft_address");
    checkAddress(request.getApiAddress(), "api_address");
    if (request.getRegion().isEmpty() || !NODE_ID.matcher(request.getRegion()).matches()) {
      throw ApiErrors.invalid(
          "region",
          ErrorReason.INVALID_ARGUMENT,
          "region is required (letters, digits, '-' or '_')");
    }
    if (request.getWaitSeconds() > MAX_WAIT_SECONDS) {
      throw ApiErrors.invalid(
          "wait_seconds",
          ErrorReason.INVALID_ARGUMENT,
          "wait_seconds is at most " + MAX_WAIT_SECONDS);
    }
  }

  private static void checkId(String id, String field) {
    if (!NODE_ID.matcher(id).matches()) {
      throw ApiErrors.invalid(
          field,
          ErrorReason.INVALID_ARGUMENT,
          field + " must be 1 to 64 letters, digits, '-' or '_', not \"" + id + "\"");
    }
  }

  private static void checkAddress(String address, String field) {
    if (!ADDRESS.matcher(address).matches()) {
      throw ApiErrors.invalid(
          field,
          ErrorReason.INVALID_ARGUMENT,
          field + " must be host:port, not \"" + address + "\"");
    }
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    if (port < 1 || port > 65_535) {
      throw ApiErrors.invalid(field, ErrorReason.INVALID_ARGUMENT, field + " has no valid port");
    }
  }

  private StatusRuntimeException unknown(String id) {
    return ApiErrors.error(
        Code.NOT_FOUND,
        ErrorReason.UNKNOWN_NODE,
        "node "
            + id
            + " is not a member and no removal of it is recorded in the last "
            + NodeRemovals.LOOKBACK_ENTRIES
            + " log entries; members: "
            + context.raft().members().all().keySet());
  }

  private static StatusRuntimeException failed(ErrorReason reason, String message) {
    return ApiErrors.error(Code.FAILED_PRECONDITION, reason, message);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiErrors.shuttingDown();
    }
  }
}
