package io.keyrotor.server.rotation;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.hsm.KekChecks;
import io.keyrotor.storage.StateView;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The validation gate, on every node: for each pending, gated version of a zone this node serves,
 * it unwraps the new KEK through its own HSM, round-trips a test AES-GCM encryption with it, and
 * proposes an acknowledgement. A node whose HSM cannot do that never acknowledges, and the version
 * is cancelled at its deadline instead of becoming primary somewhere it cannot be used.
 */
public final class VersionValidator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(VersionValidator.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Supplier<StateView> state;
  private final Function<Command, CompletableFuture<?>> proposer;
  private final Hsm hsm;
  private final String nodeId;
  private final Set<String> servedZones;
  private final Clock clock;
  private final ScheduledExecutorService executor;
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final CoalescingRunner scans;
  private final AtomicBoolean fullScanRequested = new AtomicBoolean();
  private final AtomicLong fullScans = new AtomicLong();
  // What the last full scan saw; read and written only by scans, which never overlap.
  private volatile StateView scannedStore;
  private volatile long scannedIndex = -1;
  private volatile boolean lastScanFoundWork = true;

  /** The validator of the node of {@code config}, scanning every {@code rotation} interval. */
  public VersionValidator(
      RaftNode raft, Hsm hsm, NodeConfig config, Clock clock, ScheduledExecutorService executor) {
    this(
        raft::state,
        raft::propose,
        hsm,
        config.nodeId(),
        config.zones(),
        clock,
        executor,
        config.rotation().schedulerInterval());
  }

  /**
   * @param state the node's current state store (replaced when a snapshot is installed)
   * @param proposer proposes a command through the log
   */
  VersionValidator(
      Supplier<StateView> state,
      Function<Command, CompletableFuture<?>> proposer,
      Hsm hsm,
      String nodeId,
      Set<String> servedZones,
      Clock clock,
      ScheduledExecutorService executor,
      Duration interval) {
    this.state = state;
    this.proposer = proposer;
    this.hsm = hsm;
    this.nodeId = nodeId;
    this.servedZones = Set.copyOf(servedZones);
    this.clock = clock;
    this.executor = executor;
    this.scans = new CoalescingRunner(executor, this::scanSafely);
    // Runs until the engine's executor shuts down; a scan catches and logs its own failures.
    var unusedScans =
        executor.scheduleWithFixedDelay(
            scans::runOrRequest, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Scans soon (called when a rotation applied, so acknowledgements do not wait a tick). Requests
   * coalesce: a burst of applied rotations costs one scan, or two if a scan was already running,
   * and the periodic scan joins them rather than running beside them.
   */
  public void scanSoon() {
    if (!executor.isShutdown()) {
      fullScanRequested.set(true);
      scans.request();
    }
  }

  /** Full scans so far (walks of every key); for tests. */
  long fullScans() {
    return fullScans.get();
  }

  private void scanSafely() {
    try {
      scan();
    } catch (RuntimeException e) {
      LOG.warn("version validation scan failed: {}", e.toString());
    }
  }

  /**
   * Walks the keys whose newest version waits for validation and validates each one that waits for
   * this node's acknowledgement. A periodic scan is skipped when it provably has nothing to do:
   * nothing was applied since the last full scan (same store, same applied index) and that scan
   * found no version waiting for this node, whatever its deadline (a version it found, validated,
   * failed to validate or whose acknowledgement is still in flight keeps the periodic scans going,
   * so retries still happen). A scan asked for by {@link #scanSoon} always walks.
   */
  void scan() {
    boolean forced = fullScanRequested.getAndSet(false);
    StateView store = state.get();
    // Read the applied index before the keys: apply publishes it after updating them, so the walk
    // below sees at least everything up to this index.
    long index = store.appliedPosition().index();
    if (!forced && !lastScanFoundWork && store == scannedStore && index == scannedIndex) {
      return;
    }
    fullScans.incrementAndGet();
    long now = clock.millis();
    boolean foundWork = false;
    // Only the keys with a version waiting for validation (an index kept by the store), not every
    // key: under a stream of writes this scan runs after every applied rotation.
    for (String name : store.keysAwaitingValidation()) {
      KeyRecord key = store.key(name).orElse(null);
      // The record is read after the name, so it may have moved on: check the index's condition
      // again on it, then what is particular to this node.
      if (key == null || !servedZones.contains(key.getZone()) || !StateView.awaitsValidation(key)) {
        continue;
      }
      KeyVersionRecord v = key.getVersions(key.getVersionsCount() - 1);
      if (!v.getRequiredAcknowledgersList().contains(nodeId)
          || v.getAcknowledgedByList().contains(nodeId)) {
        continue;
      }
      // Counted even past its deadline: a clock stepping back makes it due again.
      foundWork = true;
      if (now > v.getValidationDeadlineUnixMillis()) {
        continue;
      }
      String purpose = key.getName() + ":" + v.getVersion();
      if (inFlight.add(purpose)) {
        validate(key.getZone(), key.getName(), v, purpose);
      }
    }
    scannedStore = store;
    scannedIndex = index;
    lastScanFoundWork = foundWork;
  }

  private void validate(String zone, String name, KeyVersionRecord version, String purpose) {
    try {
      proveUsable(zone, name, version);
    } catch (HsmException | GeneralSecurityException | RuntimeException e) {
      // No acknowledgement: the gate cancels the version at its deadline. Retry on a later scan
      // (a passing HSM fault should not cancel a rotation).
      inFlight.remove(purpose);
      LOG.warn(
          "node {} cannot validate version {} of key {}: {}",
          nodeId,
          version.getVersion(),
          name,
          e.getMessage());
      return;
    }
    Command command =
        Command.newBuilder()
            .setRequestId("ack:" + name + ":" + version.getVersion() + ":" + nodeId)
            .setOriginNode(nodeId)
            .setAcknowledgeVersion(
                AcknowledgeVersion.newBuilder()
                    .setName(name)
                    .setVersion(version.getVersion())
                    .setNode(nodeId))
            .build();
    // A failed acknowledgement is tried again by the next scan.
    var unusedDone =
        proposer
            .apply(command)
            .orTimeout(10, TimeUnit.SECONDS)
            .whenComplete((result, failure) -> inFlight.remove(purpose));
  }

  /**
   * Unwraps the version's KEK through this node's HSM and round-trips a random block through
   * AES-GCM under it. A KEK that does not match its key check value is not acknowledged. The KEK is
   * zeroed before this returns.
   */
  private void proveUsable(String zone, String name, KeyVersionRecord version)
      throws HsmException, GeneralSecurityException {
    try (SecretKeyBytes key =
        KekChecks.unwrapChecked(hsm, version.getKek(), zone, name, version.getVersion())) {
      byte[] probe = new byte[32];
      byte[] nonce = new byte[12];
      RANDOM.nextBytes(probe);
      RANDOM.nextBytes(nonce);
      Cipher seal = Cipher.getInstance("AES/GCM/NoPadding");
      seal.init(Cipher.ENCRYPT_MODE, key.toAesKey(), new GCMParameterSpec(128, nonce));
      byte[] sealed = seal.doFinal(probe);
      Cipher open = Cipher.getInstance("AES/GCM/NoPadding");
      open.init(Cipher.DECRYPT_MODE, key.toAesKey(), new GCMParameterSpec(128, nonce));
      if (!MessageDigest.isEqual(probe, open.doFinal(sealed))) {
        throw new GeneralSecurityException("the test encryption did not round-trip");
      }
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
