package io.keyrotor.server;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.keyrotor.consensus.FatalErrorHandler;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.server.api.EventWatchers;
import io.keyrotor.server.api.ServerContext;
import io.keyrotor.server.audit.AuditCheckpointer;
import io.keyrotor.server.audit.AuditSigner;
import io.keyrotor.server.audit.DataAudit;
import io.keyrotor.server.audit.DataAuditHeads;
import io.keyrotor.server.audit.DataAuditLog;
import io.keyrotor.server.chaos.ChaosClock;
import io.keyrotor.server.clock.ClockAssessment;
import io.keyrotor.server.clock.ClockGuard;
import io.keyrotor.server.clock.ClockProbe;
import io.keyrotor.server.clock.PeerClocks;
import io.keyrotor.server.config.ConfigException;
import io.keyrotor.server.config.DataPlaneSettings;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.dataplane.DataKeyUsageReporter;
import io.keyrotor.server.dataplane.DataPlane;
import io.keyrotor.server.dataplane.KekCache;
import io.keyrotor.server.hsm.DevelopmentLayout;
import io.keyrotor.server.hsm.HsmExecutor;
import io.keyrotor.server.hsm.HsmTasks;
import io.keyrotor.server.hsm.MeasuredHsm;
import io.keyrotor.server.hsm.ZoneMasterKeyRotationDriver;
import io.keyrotor.server.http.HttpEndpoint;
import io.keyrotor.server.metrics.NodeMetrics;
import io.keyrotor.server.rotation.RotationEngine;
import io.keyrotor.server.tracing.NodeTracing;
import io.keyrotor.server.transport.ApiTransport;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running keyrotor node: its HSM, its Raft member over the replicated state, and the gRPC API
 * (KeyService, AdminService, health, reflection). Starts in that order and refuses to start, with
 * one clear message, when any part cannot be used.
 *
 * <p>It starts, and closes in reverse order, every part of a node; the Raft member's settings are
 * {@link NodeRaft}'s.
 */
public final class KeyrotorNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KeyrotorNode.class);

  /**
   * The gRPC health service name that reports the HSM: NOT_SERVING while the HSM does not answer
   * (the node is degraded; the overall "" service stays SERVING, since cached KEKs keep working).
   */
  public static final String HSM_HEALTH_SERVICE = "keyrotor.hsm";

  /** How often cached KEKs of versions that became unusable by a snapshot install are dropped. */
  private static final Duration KEK_SWEEP_INTERVAL = Duration.ofSeconds(5);

  /** What a running node is made of: what {@link #start} started and {@link #close} stops. */
  private record Parts(
      NodeConfig config,
      Hsm hsm,
      NodeExecutors executors,
      NodeMetrics metrics,
      RotationEngine rotation,
      KekCache kekCache,
      RaftNode raft,
      DataPlane dataPlane,
      DataKeyUsageReporter usageReporter,
      HsmTasks hsmTasks,
      NodeApi.Api api,
      ClockProbe clockProbe,
      DataAudit dataAudit,
      HttpEndpoint httpOrNull,
      NodeTracing tracing) {}

  private final Parts parts;

  private KeyrotorNode(Parts parts) {
    this.parts = parts;
  }

  /** Starts a node. {@code fatal} decides what a storage failure under an applied entry does. */
  public static KeyrotorNode start(NodeConfig config, Clock realClock, FatalErrorHandler fatal)
      throws StartupException {
    return start(config, realClock, fatal, null);
  }

  /**
   * Starts a node whose spans go to {@code openTelemetry} (its caller owns and closes it) instead
   * of where {@code tracing.*} says; null: as {@code tracing.*} says.
   */
  public static KeyrotorNode start(
      NodeConfig config, Clock realClock, FatalErrorHandler fatal, OpenTelemetry openTelemetry)
      throws StartupException {
    if (config.chaosMode() && !config.chaosTestCluster()) {
      throw new StartupException(
          "chaos.enabled=true lets a caller skew this node's clock and delay its Raft traffic; a node"
              + " starts with it only when chaos.test-cluster=true says this is a test cluster");
    }
    // In chaos mode the one clock the node reads is one the chaos service can skew.
    ChaosClock chaosClock = config.chaosMode() ? new ChaosClock(realClock) : null;
    Clock clock = chaosClock != null ? chaosClock : realClock;
    ApiTransport transport = openTransport(config, realClock);
    NodeMetrics metrics = new NodeMetrics();
    DataAudit dataAudit;
    try {
      dataAudit = DataAudit.open(config, metrics.registry());
    } catch (IOException e) {
      throw new StartupException(e.getMessage(), e);
    }
    NodeTracing tracing =
        openTelemetry != null
            ? NodeTracing.using(openTelemetry)
            : NodeTracing.create(config.tracing(), config.nodeId(), config.region());
    Hsm hsm;
    try {
      hsm = new MeasuredHsm(openHsm(config), metrics, tracing.tracer());
    } catch (StartupException e) {
      dataAudit.close();
      tracing.close();
      throw e;
    }
    NodeExecutors executors = NodeExecutors.create(config.flow().hsmQueueCapacity());
    DataPlaneSettings dataPlaneSettings = config.dataPlane();
    KekCache kekCache =
        new KekCache(
            hsm,
            dataPlaneSettings.kekCacheMaxEntries(),
            dataPlaneSettings.kekCacheIdleTimeout(),
            tracing.tracer());
    metrics.registerNode(config.nodeId(), config.region());
    RotationEngine rotation = new RotationEngine(metrics.registry());
    RaftNode raft = null;
    HsmTasks hsmTasks = null;
    ClockProbe clockProbe = null;
    NodeApi.Api api = null;
    // The leader stamps only while its clock agrees with a majority of the members' clocks, and
    // the node serves at the majority's time while its own clock does not ("Clock safety").
    PeerClocks peerClocks =
        new PeerClocks(
            peerApiAddresses(config).keySet(),
            config.clock().maxOffset(),
            config.clock().sampleMaxAge());
    ClockGuard clockGuard = new ClockGuard(clock, peerClocks, System::nanoTime);
    Clock agreedClock = clockGuard.agreedClock();
    try {
      raft =
          NodeRaft.start(
              config,
              clockGuard,
              fatal,
              metrics,
              kekCache,
              rotation,
              transport,
              dataAudit.sinks().applyListener(),
              tracing);
      metrics.registerRaft(raft);
      clockProbe =
          new ClockProbe(
              peerApiAddresses(config),
              transport,
              peerClocks,
              clockGuard,
              raft,
              config.clock().probeInterval());
      registerClockMetrics(metrics, clockGuard, clockProbe);
      // Version states are evaluated at the node's clock, floored at the last applied command's
      // (replicated) time, so a node whose clock is behind never un-activates a rotation.
      RaftNode started = raft;
      Clock servingClock =
          new AppliedTimeFloorClock(agreedClock, () -> started.state().lastCommandTimeMillis());
      ServerContext context =
          new ServerContext(raft, hsm, config, servingClock, Duration.ofSeconds(10));
      DataPlane dataPlane =
          DataPlane.of(
              raft,
              config.nodeId(),
              dataPlaneSettings.followerReads(),
              config.zones(),
              kekCache,
              servingClock,
              executors.dataPlane(),
              config.usage().reservations());
      kekCache.registerMetrics(metrics.registry());
      metrics.registry().gauge("apply.listener-failures", () -> started::applyListenerFailures);
      rotation.start(raft, hsm, config, agreedClock);
      // Runs until the scheduler shuts down with the node; its failures are the sweep's own.
      var unusedSweep =
          executors
              .scheduler()
              .scheduleWithFixedDelay(
                  dataPlane::dropUnusableKeks,
                  KEK_SWEEP_INTERVAL.toMillis(),
                  KEK_SWEEP_INTERVAL.toMillis(),
                  TimeUnit.MILLISECONDS);
      DataKeyUsageReporter usageReporter =
          DataKeyUsageReporter.start(
              raft,
              config.nodeId(),
              dataPlane.dataKeyUsage(),
              executors.scheduler(),
              config.usage().reportInterval());
      HealthStatusManager health = new HealthStatusManager();
      health.setStatus(HSM_HEALTH_SERVICE, ServingStatus.SERVING);
      hsmTasks =
          HsmTasks.start(
              raft,
              hsm,
              config,
              healthy ->
                  health.setStatus(
                      HSM_HEALTH_SERVICE,
                      healthy ? ServingStatus.SERVING : ServingStatus.NOT_SERVING));
      metrics
          .registry()
          .gauge("tls.certificate-expiry-seconds", () -> transport::secondsUntilExpiry);
      ZoneMasterKeyRotationDriver rewrapDriver = hsmTasks.driver();
      metrics
          .registry()
          .gauge("zmk.rewrap.kek-check-failures", () -> rewrapDriver::kekCheckFailures);
      AuditSigner auditSigner = new AuditSigner(config.nodeId(), hsm, raft);
      api =
          NodeApi.start(
              config,
              context,
              dataPlane,
              hsmTasks,
              executors,
              metrics,
              health,
              chaosClock,
              transport,
              clockGuard,
              dataAudit.log(),
              auditSigner,
              tracing);
      DataAuditHeads heads = new DataAuditHeads(config.nodeId(), dataAudit.log(), raft::propose);
      long headMillis = config.dataAudit().headInterval().toMillis();
      var unusedHeads =
          executors
              .scheduler()
              .scheduleWithFixedDelay(heads::tick, headMillis, headMillis, TimeUnit.MILLISECONDS);
      KeyrotorNode node =
          new KeyrotorNode(
              new Parts(
                  config,
                  hsm,
                  executors,
                  metrics,
                  rotation,
                  kekCache,
                  raft,
                  dataPlane,
                  usageReporter,
                  hsmTasks,
                  api,
                  clockProbe,
                  dataAudit,
                  NodeApi.startHttp(config, api, transport, metrics, raft, realClock),
                  tracing));
      NodeRegistration.start(config, hsm, raft, executors.scheduler());
      PolicyBootstrap.start(config, raft, executors.scheduler());
      ClusterVersionDriver.start(
          config.nodeId(),
          config.upgrade().maxSupportedVersion(),
          config.upgrade().checkInterval(),
          raft,
          executors.scheduler());
      executors.blocking().execute(() -> auditSigner.start(executors.scheduler()));
      new AuditCheckpointer(auditSigner, raft)
          .start(executors.scheduler(), config.audit().checkpointInterval());
      new io.keyrotor.server.audit.ReceiptSigner(auditSigner, raft, config.nodeId())
          .start(executors.scheduler(), config.audit().receiptSigningInterval());
      new io.keyrotor.server.audit.HistoryTrimmer(raft, config.audit(), clock, config.nodeId())
          .start(executors.scheduler());
      LOG.info(
          "Node {} (region {}, zones {}) serves the API on {} ({})",
          config.nodeId(),
          config.region(),
          config.zones(),
          config.apiAddress(),
          transport.mutualTls()
              ? "mutual TLS"
              : "INSECURE plaintext, tls.insecure=true: callers are not authenticated");
      return node;
    } catch (RuntimeException | StartupException e) {
      if (api != null) {
        api.server().shutdownNow();
        api.admin().close();
        api.watchers().close();
      }
      if (clockProbe != null) {
        clockProbe.close();
      }
      rotation.close();
      if (hsmTasks != null) {
        hsmTasks.close();
      }
      closeAll(raft, hsm, executors, kekCache);
      executors.api().shutdownNow();
      dataAudit.close();
      tracing.close();
      throw e;
    }
  }

  /** The API's transport security: the node's TLS files read now, or insecure plaintext. */
  private static ApiTransport openTransport(NodeConfig config, Clock realClock)
      throws StartupException {
    try {
      return ApiTransport.open(config.tls(), realClock);
    } catch (IOException e) {
      throw new StartupException(
          "cannot use the node's TLS files (tls.certificate, tls.private-key, tls.ca): "
              + e.getMessage(),
          e);
    }
  }

  private static Hsm openHsm(NodeConfig config) throws StartupException {
    DevelopmentLayout.warning(config.hsm()).ifPresent(LOG::warn);
    Hsm hsm;
    try {
      hsm = Hsms.open(config.hsm().toHsmConfig());
    } catch (ConfigException e) {
      throw new StartupException(e.getMessage(), e);
    } catch (HsmException e) {
      throw new StartupException(
          "cannot open the HSM (" + config.hsm().describe() + "): " + e.getMessage(), e);
    }
    Set<String> missing = new TreeSet<>(config.zones());
    missing.removeAll(hsm.zones());
    if (!missing.isEmpty()) {
      hsm.close();
      throw new StartupException(
          "node.zones lists "
              + missing
              + " but the HSM ("
              + config.hsm().describe()
              + ") holds no master key for "
              + (missing.size() == 1 ? "it" : "them")
              + "; create or share the zone master key first");
    }
    return hsm;
  }

  public RaftNode raft() {
    return parts.raft();
  }

  public NodeMetrics metrics() {
    return parts.metrics();
  }

  public NodeConfig config() {
    return parts.config();
  }

  /** This node's HSM (tests unwrap through it to check what the log holds). */
  Hsm hsm() {
    return parts.hsm();
  }

  /** The port of the HTTPS endpoint ({@code http.address}), or -1 if it serves none. */
  public int httpPort() {
    return parts.httpOrNull() == null ? -1 : parts.httpOrNull().port();
  }

  /** The port the gRPC API listens on. */
  public int apiPort() {
    return parts.api().server().getPort();
  }

  /** Blocks until the gRPC server terminates. */
  public void awaitTermination() throws InterruptedException {
    parts.api().server().awaitTermination();
  }

  /** The node's data plane, for in-process callers (benchmarks, tools). */
  public DataPlane dataPlane() {
    return parts.dataPlane();
  }

  /** Where the data plane's HSM unwraps and batches run (tests fill its bounded queue). */
  HsmExecutor dataPlaneExecutor() {
    return parts.executors().dataPlane();
  }

  /** The node's event watchers (tests read how many events they hold). */
  EventWatchers watchers() {
    return parts.api().watchers();
  }

  /** The node's data audit log (tests read and break it). */
  DataAuditLog dataAudit() {
    return parts.dataAudit().log();
  }

  /** The node's cache of unwrapped key-encryption keys. */
  public KekCache kekCache() {
    return parts.kekCache();
  }

  @Override
  public void close() {
    if (parts.httpOrNull() != null) {
      parts.httpOrNull().close();
    }
    NodeApi.Api api = parts.api();
    api.health().enterTerminalState();
    api.server().shutdown();
    // Event streams never end on their own: end them now with UNAVAILABLE (SHUTTING_DOWN, resume
    // elsewhere from the cursor) rather than leave them to the server's forced close, which
    // watchers would see as a cancellation, after the full wait below.
    api.watchers().close();
    try {
      api.server().awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    api.server().shutdownNow();
    parts.executors().api().shutdownNow();
    parts.usageReporter().flushOnStop(); // before Raft stops; a bounded wait
    parts.clockProbe().close();
    parts.rotation().close();
    parts.hsmTasks().close();
    api.admin().close();
    closeAll(parts.raft(), parts.hsm(), parts.executors(), parts.kekCache());
    parts.dataAudit().close();
    parts.tracing().close();
  }

  /** The other members' API addresses, by node id. */
  private static Map<String, String> peerApiAddresses(NodeConfig config) {
    Map<String, String> out = new TreeMap<>();
    config.peers().values().stream()
        .filter(peer -> !peer.id().equals(config.nodeId()))
        .forEach(peer -> out.put(peer.id(), peer.apiAddress()));
    return out;
  }

  private static void registerClockMetrics(
      NodeMetrics metrics, ClockGuard guard, ClockProbe probe) {
    metrics
        .registry()
        .gauge(
            "clock.max-peer-offset-millis", () -> () -> guard.assess().maxAbsoluteOffsetMillis());
    metrics
        .registry()
        .gauge(
            "clock.unsafe",
            () -> () -> guard.assess().state() == ClockAssessment.State.UNSAFE ? 1 : 0);
    metrics.registry().gauge("clock.stamps-refused", () -> guard::stampsRefused);
    metrics.registry().gauge("clock.leadership-handovers", () -> probe::handovers);
  }

  /** Stops the node's own pools and its Raft member, closes the HSM, zeroes every cached KEK. */
  private static void closeAll(
      RaftNode raftOrNull, Hsm hsm, NodeExecutors executors, KekCache kekCache) {
    executors.scheduler().shutdownNow();
    executors.blocking().shutdownNow();
    if (raftOrNull != null) {
      raftOrNull.close();
    }
    hsm.close();
    executors.dataPlane().close();
    kekCache.close(); // zeroes every cached key
  }

  static InetSocketAddress socketAddress(String address) {
    int colon = address.lastIndexOf(':');
    return new InetSocketAddress(
        address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }

  /** The node could not start; the message says why in terms an operator can act on. */
  public static final class StartupException extends Exception {
    private static final long serialVersionUID = 1L;

    public StartupException(String message) {
      super(message);
    }

    public StartupException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
