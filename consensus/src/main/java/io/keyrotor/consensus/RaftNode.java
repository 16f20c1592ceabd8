package io.keyrotor.consensus;

import com.google.protobuf.InvalidProtocolBufferException;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.storage.StateView;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of the keyrotor Raft group: starts the Ratis server over the state machine, proposes
 * commands and gives reads their linearizable barrier.
 *
 * <p>Proposals are submitted to the local Ratis server in-process; when this node is not the leader
 * they are forwarded through a Ratis client, which follows leader changes. Reads go through Ratis's
 * read path with read option LINEARIZABLE: on the leader, a valid lease answers at once (otherwise
 * a heartbeat round confirms leadership); on a follower, Ratis fetches the read index from the
 * leader and waits until this node has applied that far. After the barrier the caller reads the
 * local state.
 */
public final class RaftNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

  private final ConsensusConfig config;
  private final RaftGroup group;
  private final RaftPeerId selfId;
  private final RaftServer server;

  /**
   * The group's server division, called directly: the server proxy would hop to its client executor
   * and wait for that thread, which costs more than a lease-checked read itself.
   */
  private final org.apache.ratis.protocol.RaftClientAsynchronousProtocol division;

  private final KeyrotorStateMachine stateMachine;
  private final RaftClient forwarder;
  private final ClientId localClientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();

  private RaftNode(
      ConsensusConfig config,
      RaftGroup group,
      RaftServer server,
      KeyrotorStateMachine stateMachine,
      RaftClient forwarder) {
    this.config = config;
    this.group = group;
    this.selfId = RaftPeerId.valueOf(config.nodeId());
    this.server = server;
    this.division = localDivision(server, group);
    this.stateMachine = stateMachine;
    this.forwarder = forwarder;
  }

  /**
   * Starts this node's Raft server. Refuses to start, with the cause, when the Raft log or the
   * state store cannot be read, or when a Ratis override has a value Ratis cannot read ({@link
   * RatisOverrides.InvalidOverrideException}, before anything is opened).
   *
   * @param listeners told about every applied entry, in this order, each on its own (see {@link
   *     KeyrotorStateMachine.ApplyListener})
   */
  public static RaftNode start(
      ConsensusConfig config,
      Clock clock,
      FatalErrorHandler fatalErrorHandler,
      List<KeyrotorStateMachine.ApplyListener> listeners)
      throws IOException {
    checkPortFree(config.peers().get(config.nodeId()));
    RaftGroup group = group(config);
    RaftProperties properties = properties(config);
    KeyrotorStateMachine stateMachine =
        new KeyrotorStateMachine(config.stateDirectory(), clock, fatalErrorHandler, listeners);
    RaftServer server = null;
    try {
      // Building reads most settings already, so it fails like the start does.
      server =
          RaftServer.newBuilder()
              .setServerId(RaftPeerId.valueOf(config.nodeId()))
              .setGroup(group)
              .setStateMachine(stateMachine)
              .setProperties(properties)
              .setOption(RaftStorage.StartupOption.RECOVER)
              .build();
      server.start();
    } catch (IOException | RuntimeException e) {
      if (server != null) {
        closeQuietly(server);
      }
      throw new IOException(
          "node "
              + config.nodeId()
              + " cannot start its Raft server: "
              + rootMessage(e)
              + (config.ratisOverrides().isEmpty()
                  ? ""
                  : " (Ratis settings overridden by the node configuration: "
                      + config.ratisOverrides()
                      + ")"),
          e);
    }
    RaftClient forwarder =
        RaftClient.newBuilder()
            .setProperties(clientProperties(config))
            .setRaftGroup(group)
            .setClientId(ClientId.randomId())
            .setRetryPolicy(
                RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                    20, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
            .build();
    LOG.info("Ratis settings: {}", describe(properties));
    if (!config.ratisOverrides().isEmpty()) {
      LOG.warn("Ratis settings overridden by the node configuration: {}", config.ratisOverrides());
      List<String> undeclared = RatisOverrides.undeclared(config.ratisOverrides());
      if (!undeclared.isEmpty()) {
        LOG.warn(
            "Ratis declares no such setting, so it has no effect (misspelled?): {}", undeclared);
      }
    }
    LOG.info(
        "Node {} started in group {} with peers {}",
        config.nodeId(),
        group.getGroupId(),
        config.peers());
    return new RaftNode(config, group, server, stateMachine, forwarder);
  }

  /** This node's Raft server division (for tests that speak the Raft protocol to it). */
  RaftServer.Division raftDivision() throws IOException {
    return server.getDivision(group.getGroupId());
  }

  private static org.apache.ratis.protocol.RaftClientAsynchronousProtocol localDivision(
      RaftServer server, RaftGroup group) {
    try {
      if (server.getDivision(group.getGroupId())
          instanceof org.apache.ratis.protocol.RaftClientAsynchronousProtocol direct) {
        return direct;
      }
    } catch (IOException e) {
      // fall back to the proxy
    }
    return server;
  }

  /**
   * The Raft properties this node runs with (printed by benchmarks and the chaos suite): keyrotor's
   * choices, then the configured overrides.
   *
   * @throws RatisOverrides.InvalidOverrideException when an override has a value Ratis cannot read
   */
  public static RaftProperties properties(ConsensusConfig config) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftServerConfigKeys.setStorageDir(p, List.of(config.raftDirectory().toFile()));
    String address = config.peers().get(config.nodeId());
    GrpcConfigKeys.Server.setHost(p, host(address));
    GrpcConfigKeys.Server.setPort(p, port(address));
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(config.electionTimeoutMin().toMillis()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(config.electionTimeoutMax().toMillis()));
    RaftServerConfigKeys.Read.setOption(
        p,
        config.linearizableReads()
            ? RaftServerConfigKeys.Read.Option.LINEARIZABLE
            : RaftServerConfigKeys.Read.Option.DEFAULT);
    // Ratis documents the lease as on by default; in code it is off. Say what we mean.
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, config.leaderLeaseEnabled());
    RaftServerConfigKeys.Read.setLeaderLeaseTimeoutRatio(p, 0.9);
    // The lease relies on followers refusing votes while they hear from a leader: keep pre-vote.
    RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotThreshold());
    // Keep two: a snapshot being streamed to a follower must not be deleted under it.
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeGap(p, config.purgeGap());
    RaftServerConfigKeys.Log.setSegmentSizeMax(
        p, org.apache.ratis.util.SizeInBytes.valueOf(config.logSegmentSizeBytes()));
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
    // A snapshot stream to a follower that went away stalls the appender for
    // timeout x element-limit (24 s by default) before it retries: keep that short.
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(
        p, org.apache.ratis.util.SizeInBytes.valueOf(4L << 20));
    GrpcConfigKeys.Server.setInstallSnapshotRequestTimeout(p, millis(1_500));
    GrpcConfigKeys.Server.setInstallSnapshotRequestElementLimit(p, 4);
    // Measured on 2 cores: fewer, larger append batches roughly double write throughput.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    GrpcConfigKeys.Server.setLeaderOutstandingAppendsMax(p, 1);
    RaftServerConfigKeys.RetryCache.setExpiryTime(
        p, millis(config.requestTimeout().toMillis() * 12));
    // Ratis 3.3.0's "compose" of a follower's appends skips an append whose first index equals
    // that of an append still being written, yet answers SUCCESS with the longer request's last
    // index. After a partition heals, retransmitted stale appends race the leader's new one: the
    // leader then believes entries are replicated that the follower never wrote, never lowers
    // its next index below that false match index, and the follower never catches up (chaos bug
    // 3; AppendEntriesComposeIT). Compose only pipelines appends, which one outstanding append
    // per follower (below) does not do: turn it off.
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    // The log appender waits between attempts after errors; Ratis's default policy steps up to
    // 5 s after 30 errors, which a follower cut off for a few seconds accumulates. After the heal
    // it then hears from the leader only every 5 s, above its election timeout, and answers
    // NO_LEADER meanwhile. Retry every 100 ms instead: a heartbeat's cost.
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, "1ms,10, 100ms,1000000");
    config.ratisOverrides().forEach(p::set);
    RatisOverrides.check(p, config.ratisOverrides());
    return p;
  }

  /**
   * The Raft settings that decide safety and speed, as "key=value" pairs (for logs and benchmarks).
   */
  public static String describe(RaftProperties p) {
    StringBuilder out = new StringBuilder();
    for (String key :
        List.of(
            "raft.server.read.option",
            "raft.server.read.leader.lease.enabled",
            "raft.server.read.leader.lease.timeout.ratio",
            "raft.server.leaderelection.pre-vote",
            "raft.server.rpc.timeout.min",
            "raft.server.rpc.timeout.max",
            "raft.server.snapshot.auto.trigger.threshold",
            "raft.server.log.purge.gap",
            "raft.server.log.segment.size.max",
            "raft.server.log.log-metadata.enabled",
            "raft.grpc.server.leader.outstanding.appends.max",
            "raft.server.log.append-entries.compose.enabled",
            "raft.server.log.appender.retry.policy")) {
      out.append(key).append('=').append(p.get(key)).append(' ');
    }
    return out.toString().trim();
  }

  private static RaftProperties clientProperties(ConsensusConfig config) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, millis(config.requestTimeout().toMillis()));
    return p;
  }

  /**
   * Proposes {@code command} and completes with the result of applying it. Completes exceptionally
   * with a {@link ConsensusException} when the group cannot commit it (no leader, timeout); a
   * command rejected by the rules completes normally with that outcome.
   */
  public CompletableFuture<CommandResult> propose(Command command) {
    Message message = Message.valueOf(ByteString.copyFrom(command.toByteArray()));
    RaftClientRequest request = localRequest(message, RaftClientRequest.writeRequestType());
    CompletableFuture<RaftClientReply> local;
    try {
      local = division.submitClientRequestAsync(request);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(translate(e));
    }
    return local
        .thenCompose(
            reply -> {
              if (reply.getNotLeaderException() != null) {
                // Not the leader: forward through the Ratis client, which follows the leader.
                // Bounded: the caller retries with the same request id if this times out.
                return forwarder
                    .async()
                    .send(message)
                    .orTimeout(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
              }
              return CompletableFuture.completedFuture(reply);
            })
        .thenApply(this::commandResult)
        .exceptionally(
            e -> {
              throw translate(e);
            });
  }

  /**
   * A linearizable read barrier: completes once this node's state reflects every write that
   * completed before the call started. Read the state (through {@link #state()}) afterwards.
   */
  public CompletableFuture<Long> readBarrier() {
    RaftClientRequest request = localRequest(Message.EMPTY, RaftClientRequest.readRequestType());
    try {
      return division
          .submitClientRequestAsync(request)
          .thenApply(
              reply -> {
                checkReply(reply);
                return stateMachine.store().appliedPosition().index();
              })
          .exceptionally(
              e -> {
                throw translate(e);
              });
    } catch (IOException e) {
      return CompletableFuture.failedFuture(translate(e));
    }
  }

  /**
   * The replicated state as applied on this node, read-only (reads must pass {@link #readBarrier()}
   * first). Only the state machine writes it, by applying log entries.
   */
  public StateView state() {
    return stateMachine.store();
  }

  /**
   * How many times an apply listener threw on this node since it started (for metrics): each
   * failure was logged and skipped, and the node went on.
   */
  public long applyListenerFailures() {
    return stateMachine.listenerFailures();
  }

  /** This node's id. */
  public String nodeId() {
    return config.nodeId();
  }

  /** Configured peers: id -> Raft address. */
  public Map<String, String> peers() {
    return config.peers();
  }

  /** This node's view of the group. */
  public RaftStatus status() {
    try {
      RaftServer.Division division = server.getDivision(group.getGroupId());
      DivisionInfo info = division.getInfo();
      RaftPeerId leader = info.getLeaderId();
      var snapshot = stateMachine.getLatestSnapshot();
      return new RaftStatus(
          info.getCurrentRole().name(),
          info.getCurrentTerm(),
          leader == null ? null : leader.toString(),
          division.getRaftLog().getLastCommittedIndex(),
          stateMachine.store().appliedPosition().index(),
          snapshot == null ? -1 : snapshot.getIndex(),
          division.getRaftLog().getStartIndex(),
          stateMachine.snapshotsInstalled());
    } catch (IOException e) {
      return new RaftStatus("UNKNOWN", 0, null, -1, -1, -1, -1, 0);
    }
  }

  /** Whether this node is the leader and ready to serve (its first entry of the term applied). */
  public boolean isReadyLeader() {
    try {
      DivisionInfo info = server.getDivision(group.getGroupId()).getInfo();
      return info.isLeader() && info.isLeaderReady();
    } catch (IOException e) {
      return false;
    }
  }

  /** The leader this node knows of. */
  public Optional<String> leaderId() {
    return Optional.ofNullable(status().leaderIdOrNull());
  }

  /** Asks the group to make {@code targetNodeId} the leader; waits up to {@code timeoutMillis}. */
  public void transferLeadership(String targetNodeId, long timeoutMillis) {
    try {
      RaftClientReply reply =
          forwarder
              .admin()
              .transferLeadership(
                  targetNodeId == null || targetNodeId.isEmpty()
                      ? null
                      : RaftPeerId.valueOf(targetNodeId),
                  timeoutMillis);
      checkReply(reply);
    } catch (IOException e) {
      throw translate(e);
    }
  }

  /**
   * Chaos mode only: delays every Raft request this node sends by {@code delay} plus a uniform
   * random {@code jitter} (both zero: no delay). Uses Ratis's code injection point in the gRPC
   * transport, which is global to the JVM (one node per process).
   */
  public void setRpcDelay(java.time.Duration delay, java.time.Duration jitter) {
    RpcDelayInjection.install(delay, jitter);
    LOG.warn("Node {}: Raft RPC delay set to {} + up to {} (chaos mode)", nodeId(), delay, jitter);
  }

  /** Takes a snapshot of this node's state now; returns its index. */
  public long takeSnapshot(long timeoutMillis) {
    try {
      RaftClientReply reply =
          forwarder.getSnapshotManagementApi(selfId).create(true, timeoutMillis);
      checkReply(reply);
      return reply.getLogIndex();
    } catch (IOException e) {
      throw translate(e);
    }
  }

  @Override
  public void close() {
    closeQuietly(forwarder);
    closeQuietly(server);
  }

  private RaftClientRequest localRequest(Message message, RaftClientRequest.Type type) {
    return RaftClientRequest.newBuilder()
        .setClientId(localClientId)
        .setServerId(selfId)
        .setGroupId(group.getGroupId())
        .setCallId(callIds.incrementAndGet())
        .setMessage(message)
        .setType(type)
        .build();
  }

  private CommandResult commandResult(RaftClientReply reply) {
    checkReply(reply);
    try {
      return CommandResult.parseFrom(reply.getMessage().getContent().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new ConsensusException(
          ConsensusException.Kind.FAILED, "unreadable reply from the state machine", null, e);
    }
  }

  private void checkReply(RaftClientReply reply) {
    if (reply.isSuccess()) {
      return;
    }
    RaftException exception = reply.getException();
    throw translate(exception == null ? new IOException("request failed: " + reply) : exception);
  }

  private ConsensusException translate(Throwable e) {
    Throwable cause = unwrap(e);
    if (cause instanceof ConsensusException c) {
      return c;
    }
    if (cause instanceof NotLeaderException notLeader) {
      RaftPeer suggested = notLeader.getSuggestedLeader();
      String leader = suggested == null ? null : suggested.getId().toString();
      return new ConsensusException(
          leader == null ? ConsensusException.Kind.NO_LEADER : ConsensusException.Kind.NOT_LEADER,
          "node " + config.nodeId() + " is not the leader",
          leader,
          cause);
    }
    if (cause instanceof LeaderNotReadyException
        || cause instanceof LeaderSteppingDownException
        || cause instanceof ReadIndexException
        || cause instanceof ReadException
        || cause instanceof ServerNotReadyException) {
      return new ConsensusException(
          ConsensusException.Kind.NO_LEADER,
          "no leader can serve right now (" + cause.getClass().getSimpleName() + ")",
          leaderId().orElse(null),
          cause);
    }
    if (cause instanceof TimeoutException
        || cause instanceof org.apache.ratis.protocol.exceptions.TimeoutIOException
        || cause instanceof org.apache.ratis.protocol.exceptions.RaftRetryFailureException) {
      return new ConsensusException(
          ConsensusException.Kind.TIMEOUT,
          "the cluster did not answer in time (no leader or no quorum)",
          leaderId().orElse(null),
          cause);
    }
    if (cause instanceof AlreadyClosedException) {
      return new ConsensusException(
          ConsensusException.Kind.NOT_RUNNING, "this node is shutting down", null, cause);
    }
    return new ConsensusException(
        ConsensusException.Kind.FAILED, rootMessage(cause), leaderId().orElse(null), cause);
  }

  private static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static RaftGroup group(ConsensusConfig config) {
    RaftGroupId groupId =
        RaftGroupId.valueOf(
            UUID.nameUUIDFromBytes(
                ("keyrotor:" + config.clusterName()).getBytes(StandardCharsets.UTF_8)));
    List<RaftPeer> peers =
        config.peers().entrySet().stream()
            .map(
                e ->
                    RaftPeer.newBuilder()
                        .setId(RaftPeerId.valueOf(e.getKey()))
                        .setAddress(e.getValue())
                        .build())
            .toList();
    return RaftGroup.valueOf(groupId, peers);
  }

  /** Ratis exits the process when it cannot bind; say which port is taken first. */
  private static void checkPortFree(String address) throws IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new java.net.InetSocketAddress(host(address), port(address)));
    } catch (IOException e) {
      throw new IOException(
          "the Raft address " + address + " is not available (" + e.getMessage() + ")", e);
    }
  }

  private static String host(String address) {
    int colon = address.lastIndexOf(':');
    return address.substring(0, colon);
  }

  private static int port(String address) {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }

  private static TimeDuration millis(long ms) {
    return TimeDuration.valueOf(ms, TimeUnit.MILLISECONDS);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (cause: " + t + ")";
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      LOG.warn("Error while closing {}", closeable, e);
    }
  }
}
