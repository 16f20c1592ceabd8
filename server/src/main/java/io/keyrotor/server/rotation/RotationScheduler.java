package io.keyrotor.server.rotation;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.storage.AttentionEntry;
import io.keyrotor.storage.StateView;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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

  /** Most entries of the attention index one tick reads (the rest wait for the next tick). */
  static final int ENTRIES_PER_TICK = 5_000;

  /**
   * How far back each tick reads the attention index again once it caught up: a command's time is
   * its leader's clock, which may trail this node's by up to the clock offset the cluster allows,
   * so an entry may land just behind where the previous tick stopped.
   */
  static final long REREAD_MILLIS = 5_000;

  /** Most keys remembered for another look (their work was proposed, or could not be yet). */
  static final int MAX_RETRIES = 10_000;

  // Tick thread only. The scheduler reads the store's attention index (StateView
  // #keysNeedingAttention), which holds when each key may next need something, instead of walking
  // every key on every tick: its cost follows the keys that need work, not the keyspace.
  private AttentionEntry cursor = AttentionEntry.START;
  private StateView cursorState;
  private final Set<String> retry = new LinkedHashSet<>();
  // The entries read within the last REREAD_MILLIS, so reading them again costs no second look.
  private final java.util.NavigableSet<AttentionEntry> seen =
      new java.util.TreeSet<>(
          java.util.Comparator.comparingLong(AttentionEntry::timeMillis)
              .thenComparing(AttentionEntry::name));
  private final Map<String, Boolean> responsibleZones = new HashMap<>();
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
   * Looks at the keys of this node's zones whose needs may have changed since the last tick (their
   * record changed, or one of their recorded times passed), and at the keys whose work is still
   * under way; proposes what they need.
   */
  void tick() {
    long now = clock.millis();
    StateView state = raft.state();
    if (state != cursorState) {
      // A new store (start, or a snapshot installed): every key is looked at once.
      cursorState = state;
      cursor = AttentionEntry.START;
      seen.clear();
    }
    Map<String, Boolean> responsible = new HashMap<>();
    for (String zone : state.keyCountsByZone().keySet()) {
      boolean mine = responsibility.responsibleFor(zone);
      responsible.put(zone, mine);
      if (mine && !Boolean.TRUE.equals(responsibleZones.put(zone, true))) {
        cursor = AttentionEntry.START; // newly this node's zone: look at all its keys once
        seen.clear();
      } else if (!mine) {
        responsibleZones.put(zone, false);
      }
    }
    Set<String> names = new LinkedHashSet<>(retry);
    retry.clear();
    List<AttentionEntry> entries = state.keysNeedingAttention(cursor, now, ENTRIES_PER_TICK);
    AttentionEntry last = cursor;
    for (AttentionEntry entry : entries) {
      if (seen.add(entry)) {
        names.add(entry.name()); // an entry read again (below) is looked at once
      }
      last = entry;
    }
    AttentionEntry reread = new AttentionEntry(now - REREAD_MILLIS, "");
    seen.headSet(reread, false).clear();
    cursor =
        entries.size() == ENTRIES_PER_TICK || last.timeMillis() < reread.timeMillis()
            ? last
            : reread;
    boolean overflow = false;
    List<RotateKey> due = new ArrayList<>();
    long late = 0;
    for (String name : names) {
      java.util.Optional<KeyRecord> found = state.key(name);
      if (found.isEmpty()) {
        continue;
      }
      KeyRecord key = found.get();
      if (!responsible.computeIfAbsent(key.getZone(), responsibility::responsibleFor)) {
        continue;
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
      if (busy || need.isPresent() || inFlight.contains("rotate:" + name)) {
        // Proposed (or not possible yet, such as a KEK wrap that failed): look again next tick.
        if (retry.size() < MAX_RETRIES) {
          retry.add(name);
        } else {
          overflow = true;
        }
      }
      if (due.size() == BATCH_SIZE) {
        proposeRotations(due);
        due = new ArrayList<>();
      }
    }
    if (!due.isEmpty()) {
      proposeRotations(due);
    }
    if (overflow) {
      cursor = AttentionEntry.START; // too many to remember: the index is read again from its start
      seen.clear();
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
