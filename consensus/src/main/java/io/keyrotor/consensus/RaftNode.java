package io.keyrotor.consensus;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.storage.OwnerOnly;
import io.keyrotor.storage.StateExportSource;
import io.keyrotor.storage.StateView;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
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
 *
 * <p>The parts: {@link RaftSettings} (the group and the Ratis properties), {@link RaftRequests}
 * (proposals, read barriers and the translation of Ratis's failures), {@link MembershipChanges}
 * (reading and changing the group's configuration); this class starts the node and reports its
 * status.
 *
 * <p>About 570 lines because it is the one facade the server sees over Ratis: start, proposals,
 * reads, membership, snapshots, status and an orderly close.
 */
public final class RaftNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

  private final ConsensusConfig config;
  private final RaftGroup group;
  private final RaftPeerId selfId;
  private final RaftServer server;
  private final KeyrotorStateMachine stateMachine;
  private final RaftClient forwarder;
  private final RaftRequests requests;
  private final DestructionScrubber scrubber;
  private final MembershipChanges membership;
  private final RaftServerWatchdog watchdog;
  private volatile GroupCommitProposer proposer;

  private RaftNode(
      ConsensusConfig config,
      RaftGroup group,
      RaftServer server,
      KeyrotorStateMachine stateMachine,
      RaftClient forwarder,
      DestructionScrubber scrubber,
      FatalErrorHandler fatalErrorHandler) {
    this.config = config;
    this.scrubber = scrubber;
    this.group = group;
    this.selfId = RaftPeerId.valueOf(config.nodeId());
    this.server = server;
    this.stateMachine = stateMachine;
    this.forwarder = forwarder;
    this.requests =
        new RaftRequests(
            config,
            group.getGroupId(),
            localDivision(server, group),
            forwarder,
            stateMachine,
            this::leaderId,
            new ListenerReads(
                RaftGroupMemberId.valueOf(selfId, group.getGroupId()),
                () -> server.getServerRpc().async(),
                stateMachine.appliedWaiters(),
                this::leaderId,
                config.requestTimeout()));
    this.membership = new MembershipChanges(config.nodeId(), server, group, forwarder, requests);
    this.proposer =
        new GroupCommitProposer(requests::propose, GroupCommitConfig.defaults(), () -> true);
    this.watchdog =
        new RaftServerWatchdog(
            config.nodeId(), this::serverRunning, fatalErrorHandler, RaftServerWatchdog.INTERVAL);
  }

  /** Whether the Ratis server and this node's division of it still run. */
  private boolean serverRunning() {
    if (server.getLifeCycleState().isClosingOrClosed()) {
      return false;
    }
    try {
      return server.getDivision(group.getGroupId()).getInfo().isAlive();
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Sets how this node gathers concurrent client commands into one log entry (on by default with
   * {@link GroupCommitConfig#defaults()}). {@code allowed} is asked for every command: false sends
   * it alone (for instance while some member of the cluster cannot apply batch entries yet).
   */
  public void groupCommit(GroupCommitConfig config, java.util.function.BooleanSupplier allowed) {
    this.proposer = new GroupCommitProposer(requests::propose, config, allowed);
  }

  /**
   * Log entries this node's proposer sent since {@link #groupCommit} last set it (a batch entry
   * counts once), and how many commands went out inside batch entries: for metrics and tests.
   */
  public GroupCommitCounts groupCommitCounts() {
    GroupCommitProposer current = proposer;
    return new GroupCommitCounts(current.entriesProposed(), current.commandsInBatches());
  }

  /**
   * What this node's group-commit proposer sent.
   *
   * @param entries log entries proposed
   * @param commandsInBatches commands that went out inside batch entries
   */
  public record GroupCommitCounts(long entries, long commandsInBatches) {}

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
    return start(config, CommandClock.of(clock), fatalErrorHandler, listeners);
  }

  /**
   * Starts this node's Raft server, stamping the commands it accepts as leader from {@code clock},
   * which may refuse ({@link ClockUnsafeException}: the proposal fails with {@link
   * ConsensusException.Kind#CLOCK_UNSAFE}).
   */
  public static RaftNode start(
      ConsensusConfig config,
      CommandClock clock,
      FatalErrorHandler fatalErrorHandler,
      List<KeyrotorStateMachine.ApplyListener> listeners)
      throws IOException {
    checkPortFree(config.raftListenAddress());
    // Wrapped KEKs, key names and the audit chain: the node's own, whatever the umask.
    OwnerOnly.directory(config.dataDirectory());
    OwnerOnly.tree(config.dataDirectory());
    OwnerOnly.directory(config.raftDirectory());
    OwnerOnly.directory(config.stateDirectory());
    RaftGroup group = RaftSettings.group(config);
    RaftProperties properties = RaftSettings.server(config);
    // Before Ratis creates this member's metric registries: its write-path timers keep no samples.
    RatisTimers.install();
    Membership membership = new Membership(config.peers());
    Parameters parameters = RaftSettings.parameters(config, membership);
    KeyrotorStateMachine stateMachine =
        new KeyrotorStateMachine(
            config.stateDirectory(), clock, fatalErrorHandler, listeners, config.keyCacheBytes());
    // Nodes an administrator admitted (AdmitNode) may speak on the Raft port while they catch up.
    membership.admitRegistered(
        () -> stateMachine.store() == null ? List.of() : stateMachine.store().nodes().values());
    // Only members' proposers and forwarders may put a command in the log.
    stateMachine.admitProposers(membership);
    stateMachine.supportClusterVersionsUpTo(config.maxSupportedClusterVersion());
    DestructionScrubber scrubber = new DestructionScrubber(config.destroyScrubWithin());
    stateMachine.scrubDestructionsWith(scrubber);
    RaftServer server = null;
    try {
      // Building reads most settings already, so it fails like the start does.
      server =
          RaftServer.newBuilder()
              .setServerId(RaftPeerId.valueOf(config.nodeId()))
              .setGroup(RaftSettings.serverGroup(config))
              .setStateMachine(stateMachine)
              .setProperties(properties)
              .setParameters(parameters)
              .setOption(RaftStorage.StartupOption.RECOVER)
              .build();
      server.start();
      RaftServer.Division division = server.getDivision(group.getGroupId());
      membership.follow(division::getRaftConf);
    } catch (IOException | RuntimeException e) {
      if (server != null) {
        closeQuietly(server);
      }
      scrubber.close();
      throw new IOException(
          "node "
              + config.nodeId()
              + " cannot start its Raft server: "
              + RaftRequests.rootMessage(e)
              + (config.ratisOverrides().isEmpty()
                  ? ""
                  : " (Ratis settings overridden by the node configuration: "
                      + config.ratisOverrides()
                      + ")"),
          e);
    }
    RaftClient forwarder =
        RaftClient.newBuilder()
            .setProperties(RaftSettings.client(config))
            .setRaftGroup(group)
            .setParameters(parameters)
            .setClientId(RaftIdentities.clientIdOf(config.nodeId()))
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
        "Node {} started in group {} with peers {}, Raft transport {}",
        config.nodeId(),
        group.getGroupId(),
        config.peers(),
        config.transport());
    RaftNode node =
        new RaftNode(config, group, server, stateMachine, forwarder, scrubber, fatalErrorHandler);
    scrubber.attach(new ScrubbedNode(node, stateMachine, config));
    return node;
  }

  /**
   * The highest log index of a version destruction applied on this node, and the highest one whose
   * material has been scrubbed from this node's data directory since it started (both -1 before
   * any): equal once the node is clean.
   */
  public DestructionScrubStatus destructionScrubStatus() {
    return new DestructionScrubStatus(
        scrubber.destroyedThrough(), scrubber.scrubbedThrough(), scrubber.scrubs());
  }

  /**
   * Where this node's destruction scrubbing stands.
   *
   * @param destroyedThrough highest log index of an applied destruction (-1: none since start)
   * @param scrubbedThrough highest such index scrubbed from the data directory (-1: none)
   * @param scrubs scrubs completed since start
   */
  public record DestructionScrubStatus(long destroyedThrough, long scrubbedThrough, long scrubs) {
    /** Whether every destruction applied since start has been scrubbed. */
    public boolean clean() {
      return scrubbedThrough >= destroyedThrough;
    }
  }

  /** This node's Raft server division (for tests that speak the Raft protocol to it). */
  RaftServer.Division raftDivision() throws IOException {
    return server.getDivision(group.getGroupId());
  }

  private static RaftClientAsynchronousProtocol localDivision(RaftServer server, RaftGroup group) {
    try {
      if (server.getDivision(group.getGroupId()) instanceof RaftClientAsynchronousProtocol direct) {
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
    return RaftSettings.server(config);
  }

  /**
   * The Raft settings that decide safety and speed, as "key=value" pairs (for logs and benchmarks).
   */
  public static String describe(RaftProperties p) {
    return RaftSettings.describe(p);
  }

  /**
   * Proposes {@code command} and completes with the result of applying it; a client command may
   * share its log entry with others ({@link #groupCommit}). Completes exceptionally with a {@link
   * ConsensusException} when the group cannot commit it (no leader, timeout); a command rejected by
   * the rules completes normally with that outcome.
   */
  public CompletableFuture<CommandResult> propose(Command command) {
    return proposer.propose(command);
  }

  /**
   * A linearizable read barrier: completes once this node's state reflects every write that
   * completed before the call started. Read the state (through {@link #state()}) afterwards.
   */
  public CompletableFuture<Long> readBarrier() {
    return requests.readBarrier();
  }

  /**
   * The replicated state as applied on this node, read-only (reads must pass {@link #readBarrier()}
   * first). Only the state machine writes it, by applying log entries.
   */
  public StateView state() {
    return stateMachine.store();
  }

  /**
   * The applied state as a whole, for backups: exported from a snapshot of the store while apply
   * goes on (after {@link #readBarrier()}, it holds every write completed before the barrier).
   */
  public StateExportSource exports() {
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
          isListener(division) ? RaftPeerRole.LISTENER.name() : info.getCurrentRole().name(),
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

  /**
   * The followers as this node sees them while it leads (empty otherwise): for the follower-lag
   * metric.
   */
  public List<RaftMetrics.Follower> followers() {
    try {
      return RaftMetrics.followers(server.getDivision(group.getGroupId()));
    } catch (IOException e) {
      return List.of();
    }
  }

  /**
   * Ratis's own metrics of this member (elections, appenders, log, state machine), by {@code
   * <component>.<name>}: see {@link RaftMetrics#ratisMetrics}.
   */
  public Map<String, Double> ratisMetrics() {
    return RaftMetrics.ratisMetrics(selfId + "@");
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

  /**
   * Whether this node is a non-voting listener (a read replica, or a joiner still catching up): it
   * counts for no majority and never leads, but serves linearizable reads (see {@link
   * #readBarrier()}).
   */
  public boolean isListener() {
    try {
      return isListener(server.getDivision(group.getGroupId()));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * From the configuration rather than Ratis's role: a listener added by a configuration change
   * reports the role FOLLOWER until it restarts.
   */
  private boolean isListener(RaftServer.Division division) {
    return division.getRaftConf().getPeer(selfId, RaftPeerRole.LISTENER) != null;
  }

  /** The leader this node knows of. */
  public Optional<String> leaderId() {
    return Optional.ofNullable(status().leaderIdOrNull());
  }

  /** Asks the group to make {@code targetNodeId} the leader; waits up to {@code timeoutMillis}. */
  public void transferLeadership(String targetNodeId, long timeoutMillis) {
    membership.transferLeadership(targetNodeId, timeoutMillis);
  }

  /** The group's members as this node's division sees them now. */
  public GroupMembers members() {
    return membership.members();
  }

  /**
   * Asks the leader to change the group from {@code current} (as read by {@link #members()}) to
   * {@code voters} and {@code listeners}. Ratis first brings new voters up to date (staging), then
   * commits the old and new voters together, then the new ones alone. Completes when the new
   * configuration is committed; a repeated request for the configuration already in force succeeds
   * at once.
   *
   * @throws MembershipChangeException another change is in progress, or the configuration is no
   *     longer {@code current}
   * @throws ConsensusException no leader, or the change did not complete in time
   */
  public void changeMembers(
      GroupMembers current, Map<String, String> voters, Map<String, String> listeners) {
    membership.changeMembers(current, voters, listeners);
  }

  /**
   * Chaos mode only: delays every Raft request this node sends by {@code delay} plus a uniform
   * random {@code jitter} (both zero: no delay). Uses Ratis's code injection point in the gRPC
   * transport, which is global to the JVM (one node per process).
   */
  public void setRpcDelay(Duration delay, Duration jitter) {
    RpcDelayInjection.install(delay, jitter);
    LOG.warn("Node {}: Raft RPC delay set to {} + up to {} (chaos mode)", nodeId(), delay, jitter);
  }

  /** The delay {@link #setRpcDelay} installed last (zero when none), without its jitter. */
  public Duration rpcDelay() {
    return RpcDelayInjection.installedDelay();
  }

  /** Takes a snapshot of this node's state now; returns its index. */
  public long takeSnapshot(long timeoutMillis) {
    try {
      RaftClientReply reply =
          forwarder.getSnapshotManagementApi(selfId).create(true, timeoutMillis);
      requests.checkReply(reply);
      return reply.getLogIndex();
    } catch (IOException e) {
      throw requests.translate(e);
    }
  }

  /**
   * Stops the node and returns once its Raft division is closed: nothing writes to the node's
   * directory afterwards. The division's updater thread may still apply the last committed entries,
   * take the snapshot on stop (a RocksDB checkpoint) and close the store, and the division then
   * closes its log and storage. Ratis waits for that only on a thread that is not interrupted: its
   * {@code RaftServer.close()} closes the divisions on another thread and returns at once when the
   * caller's wait for that thread is interrupted (as a stop from an interrupted thread is), leaving
   * the snapshot being written. So the division is closed here on a thread of its own and waited
   * for without regard to interrupts (the caller's interrupt is kept), for at most {@link
   * #CLOSE_WAIT}; a division that Ratis was already closing on its own (after a fatal error) is
   * waited for through the state machine's close, within the same bound.
   */
  @Override
  public void close() {
    watchdog.close();
    scrubber.close();
    closeQuietly(forwarder);
    long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    Thread closing =
        new Thread(
            () -> {
              try {
                closeQuietly(server.getDivision(group.getGroupId()));
              } catch (IOException e) {
                LOG.debug("Node {}: no Raft division to close ({})", nodeId(), e.toString());
              }
            },
            "keyrotor-raft-close-" + nodeId());
    closing.setDaemon(true);
    closing.start();
    boolean interrupted = false;
    while (System.nanoTime() < deadline && (closing.isAlive() || !stateMachine.isClosed())) {
      try {
        if (closing.isAlive()) {
          closing.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        } else {
          stateMachine.awaitClosed(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (closing.isAlive() || !stateMachine.isClosed()) {
      LOG.warn("Node {}: its Raft division was still closing after {}", nodeId(), CLOSE_WAIT);
    }
    closeQuietly(server);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The longest {@link #close} waits for the node's Raft division to close. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

  /** Whether the state machine is closed (its store closed; nothing more is written). */
  boolean stateMachineClosed() {
    return stateMachine.isClosed();
  }

  /** Ratis exits the process when it cannot bind; say which port is taken first. */
  private static void checkPortFree(String address) throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(RaftSettings.host(address), RaftSettings.port(address)));
    } catch (IOException e) {
      throw new IOException(
          "the Raft address " + address + " is not available (" + e.getMessage() + ")", e);
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      LOG.warn("Error while closing {}", closeable, e);
    }
  }
}
