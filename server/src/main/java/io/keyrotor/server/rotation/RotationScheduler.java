package io.keyrotor.server.rotation;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.server.config.NodeConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices time-driven work on the node responsible for a zone (normally the leader), on its own
 * clock, and proposes it through the log:
 *
 * <ul>
 *   <li>rotations that are due (schedule, a dependency, a bulk job, or a primary nearing its
 *       encryption limit at the measured rate), in batches, each a compare-and-set on the key's
 *       newest version so a duplicate from another proposer loses;
 *   <li>cancellation of a pending version whose validation deadline passed without every
 *       acknowledgement (the previous version stays primary);
 *   <li>activation records (for the event stream), destroys that are due, and versions whose
 *       decrypt grace ran out.
 * </ul>
 *
 * <p>Nothing here changes state directly: apply decides, deterministically, and rejects what is no
 * longer true when the proposal reaches it. Proposals carry request ids derived from what they do,
 * so two proposers (around a leader change) propose the same command and it applies once.
 */
public final class RotationScheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RotationScheduler.class);

  /** A due rotation still not done this long after its due time counts as late. */
  static final long LATE_AFTER_MILLIS = 60_000;

  /** Keys whose scheduled rotation was late at the last tick ({@code rotation.late}). */
  private final java.util.concurrent.atomic.AtomicLong lateRotations =
      new java.util.concurrent.atomic.AtomicLong();

  /** Most rotations per log entry. */
  static final int BATCH_SIZE = 200;

  private final RaftNode raft;
  private final KekIssuer issuer;
  private final ZoneResponsibility responsibility;
  private final Clock clock;
  private final Duration defaultActivationDelay;
  private final String nodeId;
  private final ScheduledExecutorService executor;
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final UsageRates usageRates = new UsageRates(UsageRates.DEFAULT_WINDOW_MILLIS);
  private final long usageLeadMillis;

  /**
   * A key record that needed nothing at {@code since}, and stays so until {@code until} (see {@link
   * RotationPlanner#quietUntil}); a tick skips it while the record and the clock allow. The records
   * are immutable and replaced on every change, so identity says "unchanged".
   */
  private record Quiet(KeyRecord record, long since, long until) {
    /**
     * Whether {@code key} is the very record this was noted for: a key's record is replaced on
     * every change, so identity (not a field-by-field comparison) is the cheap and exact test.
     */
    @SuppressWarnings("ReferenceEquality")
    boolean isOf(KeyRecord key) {
      return record == key;
    }
  }

  // Tick thread only. Without it every tick evaluated every key: under a stream of creates that
  // walk took a fifth of the leader's CPU (BENCHMARKS.md).
  private final java.util.Map<String, Quiet> quietKeys = new java.util.HashMap<>();
  private final com.codahale.metrics.MetricRegistry metrics;

  /** The scheduler of the node of {@code config}, ticking every {@code rotation} interval. */
  public RotationScheduler(
      RaftNode raft,
      KekIssuer issuer,
      NodeConfig config,
      Clock clock,
      ScheduledExecutorService executor,
      com.codahale.metrics.MetricRegistry metrics) {
    this.metrics = metrics;
    // rotation.in-flight: rotations proposed and not answered yet; rotation.late: due for over a
    // minute and still not done at the last tick; rotation.failures (counter): a KEK that could
    // not be wrapped for a due rotation, or a proposal of rotations that failed.
    metrics.gauge(
        "rotation.in-flight",
        () -> () -> inFlight.stream().filter(name -> name.startsWith("rotate:")).count());
    metrics.gauge("rotation.late", () -> lateRotations::get);
    this.raft = raft;
    this.issuer = issuer;
    this.nodeId = config.nodeId();
    this.responsibility = new ZoneResponsibility(raft, nodeId, config.zones());
    this.clock = clock;
    this.defaultActivationDelay = config.defaultActivationDelay();
    this.usageLeadMillis = config.usage().rotationLead().toMillis();
    this.executor = executor;
    long interval = config.rotation().schedulerInterval().toMillis();
    // Runs until the engine's executor shuts down; tickSafely catches and logs its own failures.
    var unusedTicks =
        executor.scheduleWithFixedDelay(
            this::tickSafely, interval, interval, TimeUnit.MILLISECONDS);
  }

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      LOG.warn("rotation scheduler tick failed: {}", e.toString());
    }
  }

  /**
   * One pass over the keys of the zones this node is responsible for, skipping those that provably
   * need nothing yet.
   */
  void tick() {
    long now = clock.millis();
    List<RotateKey> due = new ArrayList<>();
    long late = 0;
    java.util.Map<String, Boolean> responsible = new java.util.HashMap<>();
    for (KeyRecord key : raft.state().keys().values()) {
      if (!responsible.computeIfAbsent(key.getZone(), responsibility::responsibleFor)) {
        continue;
      }
      Quiet quiet = quietKeys.get(key.getName());
      if (quiet != null && quiet.isOf(key) && now >= quiet.since() && now < quiet.until()) {
        continue; // same record, and no recorded time passed since it needed nothing
      }
      boolean busy = housekeeping(key, now);
      var need =
          RotationPlanner.rotationNeeded(
              key,
              now,
              defaultActivationDelay.toMillis(),
              new RotationPlanner.UsageForecast(usageRates.observe(key, now), usageLeadMillis));
      if (need.isPresent()
          && need.get().dueTimeMillis() != 0
          && now - need.get().dueTimeMillis() > LATE_AFTER_MILLIS) {
        late++;
      }
      var rotation = rotationDue(key, need, now);
      rotation.ifPresent(due::add);
      if (busy || rotation.isPresent() || inFlight.contains("rotate:" + key.getName())) {
        quietKeys.remove(key.getName());
      } else if (need.isEmpty()) {
        // Not "due, but the KEK wrap failed": that key is evaluated again on the next tick.
        quietKeys.put(key.getName(), new Quiet(key, now, RotationPlanner.quietUntil(key, now)));
      }
      if (due.size() == BATCH_SIZE) {
        proposeRotations(due);
        due = new ArrayList<>();
      }
    }
    if (!due.isEmpty()) {
      proposeRotations(due);
    }
    lateRotations.set(late);
  }

  /** Proposes the housekeeping {@code key} needs; whether it needed any. */
  private boolean housekeeping(KeyRecord key, long now) {
    List<RotationPlanner.Housekeeping> work = RotationPlanner.housekeeping(key, now);
    for (RotationPlanner.Housekeeping item : work) {
      propose(item.purpose(), item.command());
    }
    return !work.isEmpty();
  }

  /**
   * The rotation to propose for {@code key}, whose {@link RotationPlanner#rotationNeeded need} at
   * {@code now} is {@code need}: none if nothing is due, one is already proposed, or no KEK could
   * be wrapped for it.
   */
  private java.util.Optional<RotateKey> rotationDue(
      KeyRecord key, java.util.Optional<RotationPlanner.RotationNeed> need, long now) {
    if (inFlight.contains("rotate:" + key.getName())) {
      return java.util.Optional.empty();
    }
    if (need.isEmpty()) {
      return java.util.Optional.empty();
    }
    if (need.get().dueTimeMillis() != 0) {
      metrics
          .timer("rotation.due-to-activated")
          .update(
              now - need.get().dueTimeMillis() + need.get().activationDelayMillis(),
              TimeUnit.MILLISECONDS);
    }
    try {
      return java.util.Optional.of(
          RotationPlanner.rotation(
              key.getName(),
              need.get(),
              issuer.newWrappedKek(key.getZone(), key.getName(), key.getVersionsCount() + 1)));
    } catch (HsmException e) {
      metrics.counter("rotation.failures").inc();
      LOG.warn("cannot rotate key {} now: {}", key.getName(), e.getMessage());
      return java.util.Optional.empty();
    }
  }

  private void proposeRotations(List<RotateKey> rotations) {
    List<String> names = rotations.stream().map(r -> "rotate:" + r.getName()).toList();
    inFlight.addAll(names);
    Command command =
        Command.newBuilder()
            .setRequestId("scheduled:" + nodeId + ":" + UUID.randomUUID())
            .setOriginNode(nodeId)
            .setRotateKeys(RotateKeys.newBuilder().addAllRotations(rotations))
            .build();
    // The outcome is handled in the callback; a rotation that failed is tried again next tick.
    var unusedOutcome =
        raft.propose(command)
            .orTimeout(10, TimeUnit.SECONDS)
            .whenComplete(
                (result, failure) -> {
                  names.forEach(inFlight::remove);
                  if (failure != null) {
                    metrics.counter("rotation.failures").inc();
                    LOG.debug("scheduled rotations not proposed: {}", failure.toString());
                  } else {
                    LOG.info(
                        "scheduled rotations: {} ({} keys)",
                        result.getOutcome().getMessage(),
                        rotations.size());
                  }
                });
  }

  private void propose(String purpose, Command.Builder command) {
    if (!inFlight.add(purpose)) {
      return;
    }
    CompletableFuture<?> future =
        raft.propose(
                command
                    .setRequestId(purpose + ":" + HexFormat.of().toHexDigits(purpose.hashCode()))
                    .setOriginNode(nodeId)
                    .build())
            .orTimeout(10, TimeUnit.SECONDS);
    var unusedDone = future.whenComplete((result, failure) -> inFlight.remove(purpose));
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
