package io.keyrotor.server.hsm;

import com.google.rpc.Code;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RewrapKeks;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRotationState;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.apply.zone.ZoneMasterKeyRewraps;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives running zone master key rotations: reads the replicated job state, and on the node chosen
 * to drive a zone, takes the next batch of KEKs still under an older master key version, unwraps
 * each through this node's HSM and wraps it again under the target version, and proposes the
 * wrapped bytes as one {@code RewrapKeks} command ({@link RewrapBatch}: every new wrapping is
 * checked against the KEK's key check value before it is proposed). The plaintext KEK is zeroed
 * before the batch is proposed; only wrapped bytes enter the log.
 *
 * <p><b>Who drives.</b> The leader, when it holds the zone (its configuration lists it and its HSM
 * holds the target version). A leader may not hold the zone (data residency: a {@code us} leader
 * cannot touch zone {@code eu}); then the registered holders of the zone drive in node id order,
 * the first at once and the k-th after the job made no progress for k × {@link #STALL_TIMEOUT}, so
 * the job continues when the first is down. Two drivers at once are safe: every entry is a
 * compare-and-set on the KEK's current master key version, so a duplicate batch changes nothing.
 *
 * <p><b>Resuming.</b> The driver holds no state of its own: after a leader change or a restart the
 * next driver reads the job from the replicated state and continues.
 */
public final class ZoneMasterKeyRotationDriver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ZoneMasterKeyRotationDriver.class);

  /** System property: KEK versions per rewrap batch (default 100). */
  public static final String BATCH_SIZE_PROPERTY = "keyrotor.zmk.rewrap-batch-size";

  /** System property: milliseconds between two batches of one driver (default 100). */
  public static final String INTERVAL_PROPERTY = "keyrotor.zmk.rewrap-interval-millis";

  /** How long a holder that is not the first waits for progress, per rank, before it drives. */
  public static final Duration STALL_TIMEOUT = Duration.ofSeconds(10);

  private final RaftNode raft;
  private final Hsm hsm;
  private final String nodeId;
  private final Set<String> configuredZones;
  private final int batchSize;
  private final Duration interval;
  private final AtomicBoolean inFlight = new AtomicBoolean();
  private final AtomicLong kekCheckFailures = new AtomicLong();
  private final Map<String, Observation> observed = new ConcurrentHashMap<>();
  private final Map<String, String> lastErrors = new ConcurrentHashMap<>();
  private volatile ScheduledFuture<?> task;

  /** The last progress of a zone's job this node saw, on its own monotonic clock. */
  private record Observation(long batches, long sinceNanos) {}

  public ZoneMasterKeyRotationDriver(
      RaftNode raft, Hsm hsm, String nodeId, Set<String> configuredZones) {
    this(
        raft,
        hsm,
        nodeId,
        configuredZones,
        Integer.getInteger(BATCH_SIZE_PROPERTY, 100),
        Duration.ofMillis(Long.getLong(INTERVAL_PROPERTY, 100)));
  }

  public ZoneMasterKeyRotationDriver(
      RaftNode raft,
      Hsm hsm,
      String nodeId,
      Set<String> configuredZones,
      int batchSize,
      Duration interval) {
    if (batchSize < 1 || batchSize > ZoneMasterKeyRewraps.MAX_REWRAPS_PER_BATCH) {
      throw new IllegalArgumentException(
          "the rewrap batch size must be 1 to "
              + ZoneMasterKeyRewraps.MAX_REWRAPS_PER_BATCH
              + ", not "
              + batchSize);
    }
    this.raft = raft;
    this.hsm = hsm;
    this.nodeId = nodeId;
    this.configuredZones = Set.copyOf(configuredZones);
    this.batchSize = batchSize;
    this.interval = interval;
  }

  /** Starts looking for work on {@code executor}, every {@code interval}. */
  public void start(ScheduledExecutorService executor) {
    long millis = Math.max(10, interval.toMillis());
    task =
        executor.scheduleWithFixedDelay(this::tickQuietly, millis, millis, TimeUnit.MILLISECONDS);
  }

  /**
   * This node's last failure while driving a zone's rotation, if any (node-local, not replicated).
   */
  public Optional<String> lastError(String zone) {
    return Optional.ofNullable(lastErrors.get(zone));
  }

  private void tickQuietly() {
    try {
      tick();
    } catch (RuntimeException e) {
      // A closed store during shutdown or a snapshot install; the next tick looks again.
      LOG.debug("zone master key rotation driver: {}", e.toString());
    }
  }

  /** Proposes at most one batch (for the first zone this node should drive). Never blocks on it. */
  void tick() {
    if (inFlight.get()) {
      return;
    }
    StateView state = raft.state();
    for (ZoneMasterKeyRecord job : state.zoneMasterKeys().values()) {
      if (job.getRotationState()
          != ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING) {
        observed.remove(job.getZone());
        continue;
      }
      Observation seen = observe(job);
      if (shouldDrive(state, job, seen) && inFlight.compareAndSet(false, true)) {
        try {
          proposeBatch(state, job);
        } catch (RuntimeException e) {
          inFlight.set(false);
          throw e;
        }
        return;
      }
    }
  }

  private Observation observe(ZoneMasterKeyRecord job) {
    return observed.compute(
        job.getZone(),
        (zone, previous) ->
            previous != null && previous.batches() == job.getBatches()
                ? previous
                : new Observation(job.getBatches(), System.nanoTime()));
  }

  private boolean shouldDrive(StateView state, ZoneMasterKeyRecord job, Observation seen) {
    String zone = job.getZone();
    if (!configuredZones.contains(zone) || !holdsVersion(zone, job.getTargetVersion())) {
      return false;
    }
    if (raft.isReadyLeader()) {
      return true;
    }
    String leader = raft.status().leaderIdOrNull();
    List<String> order = new ArrayList<>();
    NodeRecord leaderRecord = leader == null ? null : state.nodes().get(leader);
    if (leaderRecord != null && leaderRecord.getZonesList().contains(zone)) {
      order.add(leader);
    }
    for (NodeRecord node : state.nodes().values()) {
      if (node.getZonesList().contains(zone) && !order.contains(node.getId())) {
        order.add(node.getId());
      }
    }
    int rank = order.indexOf(nodeId);
    if (rank < 0) {
      return false;
    }
    if (rank == 0) {
      return true;
    }
    long stalledNanos = System.nanoTime() - seen.sinceNanos();
    return stalledNanos > STALL_TIMEOUT.toNanos() * rank;
  }

  private boolean holdsVersion(String zone, int version) {
    try {
      SortedSet<Integer> versions = hsm.zoneMasterKeyVersions().get(zone);
      return versions != null && versions.contains(version);
    } catch (HsmException e) {
      lastErrors.put(zone, e.getMessage());
      return false;
    }
  }

  private void proposeBatch(StateView state, ZoneMasterKeyRecord job) {
    String zone = job.getZone();
    int target = job.getTargetVersion();
    RewrapBatch built = RewrapBatch.build(hsm, state, zone, target, batchSize);
    RewrapKeks batch = built.command();
    kekCheckFailures.addAndGet(built.checkFailures());
    for (String message : built.failures()) {
      lastErrors.put(zone, message);
      LOG.warn("zone master key rotation: {}", message);
    }
    boolean allRewrapped = built.failures().isEmpty();
    if (!allRewrapped && batch.getRewrapsCount() == 0) {
      // Nothing this node can move now; an empty batch would only recount. Try again later.
      inFlight.set(false);
      return;
    }
    Command command =
        Command.newBuilder()
            .setRequestId("zmk-rewrap:" + zone + ":" + target + ":" + UUID.randomUUID())
            .setOriginNode(nodeId)
            .setRewrapKeks(batch)
            .build();
    // The outcome is handled in the callback; the next tick proposes the next batch.
    var unusedOutcome =
        raft.propose(command)
            .orTimeout(30, TimeUnit.SECONDS)
            .whenComplete(
                (result, failure) -> {
                  inFlight.set(false);
                  if (failure != null) {
                    LOG.info(
                        "zone master key rotation of {}: batch not committed ({}); retrying",
                        zone,
                        failure.toString());
                    return;
                  }
                  if (result.getOutcome().getCode() != Code.OK_VALUE) {
                    LOG.info(
                        "zone master key rotation of {}: batch refused: {} {}",
                        zone,
                        result.getOutcome().getReason(),
                        result.getOutcome().getMessage());
                    return;
                  }
                  if (allRewrapped) {
                    lastErrors.remove(zone);
                  }
                  LOG.info(
                      "zone master key rotation of {} to version {}: {}",
                      zone,
                      target,
                      result.getOutcome().getMessage());
                });
  }

  /**
   * KEKs this driver refused to move since start because a wrapping (the stored one or the new one)
   * did not unwrap to the KEK its check value names.
   */
  public long kekCheckFailures() {
    return kekCheckFailures.get();
  }

  @Override
  public void close() {
    ScheduledFuture<?> running = task;
    if (running != null) {
      running.cancel(false);
    }
  }
}
