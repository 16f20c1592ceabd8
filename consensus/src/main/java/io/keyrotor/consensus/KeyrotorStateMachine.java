package io.keyrotor.consensus;

import com.google.protobuf.InvalidProtocolBufferException;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandBatch;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.storage.AppliedPosition;
import io.keyrotor.storage.CommandStamping;
import io.keyrotor.storage.KeyStateStore;
import io.keyrotor.storage.StorageException;
import io.keyrotor.storage.version.ClusterVersion;
import io.keyrotor.storage.version.UnsupportedClusterVersionException;
import io.keyrotor.storage.view.KeyCache;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis state machine: log entries are {@link Command}s applied to the {@link KeyStateStore}.
 *
 * <ul>
 *   <li>{@link #startTransaction} runs on the leader only: it stamps the command with the leader's
 *       time (and activation times), so apply never reads a clock.
 *   <li>{@link #applyTransaction} applies synchronously, in log order, one WriteBatch per entry
 *       with the applied position in it. Business rule violations are results in the reply; a
 *       storage failure stops the node (see {@link FatalErrorHandler}) so the entry is replayed,
 *       never skipped on one replica. Then it tells the {@link ApplyListener}s, each on its own: a
 *       listener's failure is logged and counted ({@link #listenerFailures()}), never fatal, and
 *       never keeps the other listeners from being called.
 *   <li>After a restart, the store's durable position D may be ahead of the snapshot Ratis resumes
 *       from; entries up to D are skipped. If the store is missing or behind the newest snapshot,
 *       it is rebuilt from that snapshot first.
 *   <li>Snapshots are RocksDB checkpoints (hard links), published atomically; a follower that fell
 *       behind the purged log receives the leader's checkpoint and {@link #reinitialize} swaps it
 *       in.
 * </ul>
 *
 * <p>About 540 lines because it is every Ratis state machine callback in one place: the life cycle
 * of the store they share is read in one file.
 */
public final class KeyrotorStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(KeyrotorStateMachine.class);

  private Path stateDirectory;
  private final CommandClock clock;
  private final FatalErrorHandler fatalErrorHandler;
  private final SnapshotDirectory snapshots = new SnapshotDirectory();
  private final ApplyListeners listeners;
  private volatile KeyStateStore store;
  private final long keyCacheBytes;

  /** The highest cluster version this node applies (see {@link #supportClusterVersionsUpTo}). */
  private volatile int supportedClusterVersion = ClusterVersion.SUPPORTED;

  /** Told about every applied destruction; null in harnesses that scrub nothing. */
  private volatile DestructionScrubber scrubber;

  /** Counted down when {@link #close} finished: the store is closed, nothing more is written. */
  private final java.util.concurrent.CountDownLatch closed =
      new java.util.concurrent.CountDownLatch(1);

  /** Set by the scrubber: the next snapshot is a new checkpoint even at an unchanged index. */
  private volatile boolean freshSnapshotRequested;

  /** Whose proposals reach the log; null (harnesses only) admits any client. */
  private volatile Membership proposers;

  /** This node's peer id, known once Ratis initializes the state machine; null before. */
  private volatile String selfId;

  private final java.util.concurrent.atomic.AtomicLong snapshotsInstalled =
      new java.util.concurrent.atomic.AtomicLong();

  /** Reads on a listener waiting for this node to apply their read index. */
  private final AppliedIndexWaiters appliedWaiters = new AppliedIndexWaiters();

  /**
   * Told about every applied command, after the state reflects it (for metrics, caches and
   * watchers), on the state machine's updater thread: it must be quick and must not block. Entries
   * replayed after a restart (at or below the store's durable index) are told too, with the
   * remembered result, marked deduplicated. An exception it throws is logged and counted; the node
   * and the other listeners go on.
   */
  @FunctionalInterface
  public interface ApplyListener {
    /**
     * Told that {@code command} was applied (or replayed) with {@code result}.
     *
     * @param index the entry's log index
     * @param nanos how long parsing and applying the entry took
     */
    void applied(Command command, CommandResult result, long index, long nanos);
  }

  KeyrotorStateMachine(
      Path stateDirectory,
      CommandClock clock,
      FatalErrorHandler fatalErrorHandler,
      List<ApplyListener> listeners) {
    this(stateDirectory, clock, fatalErrorHandler, listeners, KeyCache.DEFAULT_BYTES);
  }

  KeyrotorStateMachine(
      Path stateDirectory,
      CommandClock clock,
      FatalErrorHandler fatalErrorHandler,
      List<ApplyListener> listeners,
      long keyCacheBytes) {
    this.keyCacheBytes = keyCacheBytes;
    this.stateDirectory = stateDirectory;
    this.clock = clock;
    this.fatalErrorHandler = fatalErrorHandler;
    this.listeners = new ApplyListeners(listeners);
  }

  /**
   * A state machine whose state store goes into the Ratis storage's state machine directory ({@code
   * <storage>/sm/state}), resolved when Ratis initializes it: for harnesses that create the state
   * machine before they know the server's storage, such as Ratis's {@code MiniRaftCluster} in the
   * chaos suite's in-process tier. Nodes use {@link RaftNode#start}.
   */
  public static KeyrotorStateMachine inRatisStorage(
      Clock clock, FatalErrorHandler fatalErrorHandler, List<ApplyListener> listeners) {
    return new KeyrotorStateMachine(null, CommandClock.of(clock), fatalErrorHandler, listeners);
  }

  /**
   * Applies cluster versions up to {@code version} only: a state or a log entry that needs more
   * stops the node ({@link UnsupportedClusterVersionException} to the fatal error handler) instead
   * of being applied differently from the rest of the cluster. Set before the server starts.
   */
  void supportClusterVersionsUpTo(int version) {
    this.supportedClusterVersion = version;
  }

  /** The highest cluster version this node applies. */
  public int supportedClusterVersion() {
    return supportedClusterVersion;
  }

  /** The current state store; replaced when a snapshot is installed, so do not cache it. */
  public KeyStateStore store() {
    return store;
  }

  /** How many times an apply listener threw (each failure was logged, throttled, and skipped). */
  public long listenerFailures() {
    return listeners.failures();
  }

  long snapshotsInstalled() {
    return snapshotsInstalled.get();
  }

  Optional<Path> latestSnapshotDirectory() {
    return snapshots.latestDirectory();
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return snapshots;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage)
      throws IOException {
    super.initialize(server, groupId, storage);
    selfId = server.getId().toString();
    if (stateDirectory == null) {
      stateDirectory = storage.getStorageDir().getStateMachineDir().toPath().resolve("state");
    }
    snapshots.init(storage);
    getLifeCycle().startAndTransition(this::openStore);
  }

  private void openStore() throws IOException {
    Optional<Path> snapshot = snapshots.latestDirectory();
    long snapshotIndex =
        snapshot.flatMap(SnapshotDirectory::termIndexOf).map(TermIndex::getIndex).orElse(-1L);
    if (snapshot.isPresent() && !KeyStateStore.exists(stateDirectory)) {
      LOG.info(
          "No state store in {}: rebuilding it from snapshot {}", stateDirectory, snapshot.get());
      KeyStateStore.restoreFromCheckpoint(snapshot.get(), stateDirectory);
    }
    KeyStateStore opened = KeyStateStore.open(stateDirectory, keyCacheBytes);
    if (opened.appliedPosition().index() < snapshotIndex) {
      // The store lost writes that the snapshot (and the purged log) no longer hold elsewhere.
      LOG.warn(
          "State store at index {} is behind snapshot {}: rebuilding it from the snapshot",
          opened.appliedPosition().index(),
          snapshotIndex);
      opened.close();
      KeyStateStore.restoreFromCheckpoint(snapshot.get(), stateDirectory);
      opened = KeyStateStore.open(stateDirectory, keyCacheBytes);
    }
    refuseUnsupportedVersion(opened, "this node's state store");
    store = opened;
    AppliedPosition position = opened.appliedPosition();
    setLastAppliedTermIndex(TermIndex.valueOf(position.term(), position.index()));
    appliedWaiters.appliedThrough(position.index());
    LOG.info("State store open at index {} (digest {})", position.index(), opened.digest());
  }

  /**
   * Closes {@code opened} and throws when its active cluster version is above what this node
   * supports: a node started with an older binary than the cluster runs must not apply anything.
   */
  private void refuseUnsupportedVersion(KeyStateStore opened, String what) throws IOException {
    int active = opened.activeClusterVersion();
    if (active > supportedClusterVersion) {
      opened.close();
      String message =
          "UPGRADE REQUIRED: "
              + what
              + " is at cluster version "
              + active
              + " but this node supports up to "
              + supportedClusterVersion
              + "; start it with a binary that supports version "
              + active
              + " (it refuses to apply rather than diverge)";
      LOG.error(message);
      throw new IOException(
          message,
          new UnsupportedClusterVersionException(message, active, supportedClusterVersion));
    }
  }

  /**
   * From now on, refuses in {@link #startTransaction} (before anything reaches the log) every
   * command whose Ratis client id is not one of a current member's ({@link RaftIdentities}): this
   * node's own proposer or a member's forwarder. {@link RaftNode#start} sets it; the
   * in-Ratis-storage harness state machine admits any client.
   */
  void admitProposers(Membership members) {
    this.proposers = members;
  }

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    TransactionContext.Builder context =
        TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request);
    Membership admitted = proposers;
    if (admitted != null && !admittedProposer(request.getClientId(), admitted)) {
      LOG.warn(
          "Refused a command from Ratis client {}: not a member's proposer", request.getClientId());
      TransactionContext rejected = context.build();
      rejected.setException(
          new IOException(
              "refused: client "
                  + request.getClientId()
                  + " is not the proposer of a member of the Raft group"));
      return rejected;
    }
    try {
      Command command = InProcessMessages.commandOrNull(request.getMessage());
      if (command == null) {
        command = Command.parseFrom(request.getMessage().getContent().toByteArray());
      }
      CommandClock.Stamp stamp = clock.stamp();
      Command stamped = stamp(command, stamp);
      return context
          .setLogData(UnsafeByteOperations.unsafeWrap(stamped.toByteArray()))
          .setStateMachineContext(stamped)
          .build();
    } catch (ClockUnsafeException e) {
      LOG.warn("Refused to stamp a command: {}", e.getMessage());
      TransactionContext rejected = context.build();
      rejected.setException(new IOException(ClockUnsafeException.MARKER + e.getMessage(), e));
      return rejected;
    } catch (InvalidProtocolBufferException e) {
      TransactionContext rejected = context.build();
      rejected.setException(new IOException("not a keyrotor command: " + e.getMessage(), e));
      return rejected;
    }
  }

  /**
   * Whether {@code clientId} may put a command in the log: this node's own proposer (only the
   * leader runs {@code startTransaction}, and the leader is a member of the configuration it leads,
   * so its own commands skip the walk over the membership), or a current member's.
   */
  private boolean admittedProposer(ClientId clientId, Membership admitted) {
    String self = selfId;
    if (self != null && RaftIdentities.names(clientId, self)) {
      return true;
    }
    return RaftIdentities.memberOf(clientId, admitted.members().keySet()).isPresent();
  }

  /** {@code command} stamped; each command of a batch with the same stamp, as if proposed alone. */
  private static Command stamp(Command command, CommandClock.Stamp stamp) {
    if (!command.hasBatch()) {
      return CommandStamping.stamp(command, stamp.timeMillis(), stamp.witnessOrNull());
    }
    CommandBatch.Builder batch = CommandBatch.newBuilder();
    for (Command each : command.getBatch().getCommandsList()) {
      batch.addCommands(CommandStamping.stamp(each, stamp.timeMillis(), stamp.witnessOrNull()));
    }
    return command.toBuilder().setBatch(batch).build();
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long index = entry.getIndex();
    long term = entry.getTerm();
    Command command;
    CommandResult result;
    long nanos;
    try {
      long start = System.nanoTime();
      // On the leader, the command stamped in startTransaction; elsewhere, parsed from the entry.
      command =
          trx.getStateMachineContext() instanceof Command stamped
              ? stamped
              : Command.parseFrom(
                  entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
      KeyStateStore current = store;
      if (index > current.appliedPosition().index()) {
        ClusterVersion.checkCanApply(
            command, index, current.activeClusterVersion(), supportedClusterVersion);
      }
      // Replays at or below the store's durable index change nothing and answer the remembered
      // result; the listeners are told about them like about any entry.
      result = store.apply(command, term, index);
      advanceLastApplied(term, index);
      nanos = System.nanoTime() - start;
    } catch (UnsupportedClusterVersionException e) {
      String message = "UPGRADE REQUIRED: " + e.getMessage();
      LOG.error(message);
      fatalErrorHandler.onFatalError(message, e);
      return CompletableFuture.failedFuture(e);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      String message = "cannot apply log entry " + index + " (term " + term + ")";
      LOG.error(message, e);
      fatalErrorHandler.onFatalError(message, e);
      return CompletableFuture.failedFuture(e);
    }
    if (command.hasBatch()) {
      // Each command of a batch is told about on its own, as if it were its own entry.
      List<Command> commands = command.getBatch().getCommandsList();
      for (int i = 0; i < commands.size() && i < result.getBatchResultsCount(); i++) {
        told(commands.get(i), result.getBatchResults(i), index, nanos / commands.size());
      }
    } else {
      told(command, result, index, nanos);
    }
    // The proposer on this node reads the result object; bytes only if Ratis sends it elsewhere.
    return CompletableFuture.completedFuture(InProcessMessages.of(result));
  }

  private void told(Command command, CommandResult result, long index, long nanos) {
    listeners.applied(command, result, index, nanos);
    DestructionScrubber destructions = scrubber;
    if (destructions != null && command.hasDestroyVersion()) {
      destructions.destroyApplied(index);
    }
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    // Configuration and metadata entries: persist the position too, so the store's durable
    // position is never behind what Ratis counts as applied.
    try {
      store.recordPosition(term, index);
    } catch (StorageException e) {
      fatalErrorHandler.onFatalError("cannot record applied index " + index, e);
      return;
    }
    advanceLastApplied(term, index);
  }

  /** One line per leader change: the node's view of elections, for operators and chaos runs. */
  @Override
  public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeaderId) {
    LOG.info(
        "{}: leader is now {}", member.getPeerId(), newLeaderId == null ? "unknown" : newLeaderId);
  }

  private void advanceLastApplied(long term, long index) {
    if (index > getLastAppliedTermIndex().getIndex()) {
      updateLastAppliedTermIndex(term, index);
      appliedWaiters.appliedThrough(index);
    }
  }

  /** The reads waiting for this node to apply an index (see {@link ListenerReads}). */
  AppliedIndexWaiters appliedWaiters() {
    return appliedWaiters;
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    // The read barrier: Ratis calls this once the read index is applied locally.
    return CompletableFuture.completedFuture(
        Message.valueOf(
            ByteString.copyFrom(
                ByteBuffer.allocate(8).putLong(store.appliedPosition().index()).array())));
  }

  @Override
  public long takeSnapshot() throws IOException {
    AppliedPosition position = store.appliedPosition();
    if (position.index() < 0) {
      return RaftLog.INVALID_LOG_INDEX;
    }
    var latest = snapshots.getLatestSnapshot();
    boolean fresh = freshSnapshotRequested;
    freshSnapshotRequested = false;
    if (latest != null && latest.getIndex() >= position.index() && !fresh) {
      return latest.getIndex();
    }
    Path staged = snapshots.stagingDirectory(position.index());
    AppliedPosition inCheckpoint = store.checkpoint(staged);
    snapshots.publish(staged, inCheckpoint.term(), inCheckpoint.index());
    LOG.info("Took snapshot at index {}", inCheckpoint.index());
    return inCheckpoint.index();
  }

  /**
   * Has this node's destructions scrubbed by {@code destructionScrubber} (which is told about each
   * applied DestroyVersion, on the apply thread, without waiting).
   */
  void scrubDestructionsWith(DestructionScrubber destructionScrubber) {
    this.scrubber = destructionScrubber;
  }

  /**
   * Makes the next snapshot a new checkpoint of the store even when the newest snapshot has the
   * same index: the store's files were rewritten since, and the old checkpoint links files that
   * hold destroyed material.
   */
  void requestFreshSnapshot() {
    freshSnapshotRequested = true;
  }

  /** Deletes the snapshots older than the one at {@code index}. */
  void deleteSnapshotsBefore(long index) throws IOException {
    snapshots.deleteBefore(index);
  }

  @Override
  public void pause() {
    moveFrom(LifeCycle.State.RUNNING, LifeCycle.State.PAUSING, LifeCycle.State.PAUSED);
  }

  /** Moves the life cycle through {@code via} to {@code to}, if it is in {@code from}. */
  private void moveFrom(LifeCycle.State from, LifeCycle.State via, LifeCycle.State to) {
    LifeCycle lifeCycle = getLifeCycle();
    if (lifeCycle.getCurrentState() == from) {
      lifeCycle.transition(via);
      lifeCycle.transition(to);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    // Called on the updater thread after a snapshot from the leader was installed: nothing
    // applies concurrently. Replace the live store with the installed checkpoint.
    snapshots.reload();
    Path snapshot =
        snapshots
            .latestDirectory()
            .orElseThrow(() -> new IOException("reinitialize without an installed snapshot"));
    TermIndex termIndex = SnapshotDirectory.termIndexOf(snapshot).orElseThrow();
    KeyStateStore previous = store;
    previous.close();
    KeyStateStore.restoreFromCheckpoint(snapshot, stateDirectory);
    KeyStateStore replaced = KeyStateStore.open(stateDirectory, keyCacheBytes);
    try {
      refuseUnsupportedVersion(replaced, "the snapshot installed from the leader");
    } catch (IOException e) {
      fatalErrorHandler.onFatalError(e.getMessage(), e.getCause());
      throw e;
    }
    if (replaced.appliedPosition().index() != termIndex.getIndex()) {
      replaced.close();
      throw new IOException(
          "installed snapshot "
              + snapshot
              + " holds index "
              + replaced.appliedPosition().index()
              + ", not "
              + termIndex.getIndex());
    }
    store = replaced;
    setLastAppliedTermIndex(termIndex);
    appliedWaiters.appliedThrough(termIndex.getIndex());
    snapshotsInstalled.incrementAndGet();
    LOG.info("Installed snapshot at index {} (digest {})", termIndex.getIndex(), replaced.digest());
    moveFrom(LifeCycle.State.PAUSED, LifeCycle.State.STARTING, LifeCycle.State.RUNNING);
  }

  @Override
  public void close() throws IOException {
    try {
      KeyStateStore current = store;
      if (current != null) {
        current.close();
      }
      super.close();
    } finally {
      closed.countDown();
    }
  }

  /** Waits up to {@code timeout} for {@link #close} to finish; true if it did. */
  boolean awaitClosed(java.time.Duration timeout) throws InterruptedException {
    return closed.await(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** Whether {@link #close} finished. */
  boolean isClosed() {
    return closed.getCount() == 0;
  }
}
