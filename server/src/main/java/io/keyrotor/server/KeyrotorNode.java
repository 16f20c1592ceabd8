package io.keyrotor.server;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.keyrotor.consensus.CommandClock;
import io.keyrotor.consensus.ConsensusConfig;
import io.keyrotor.consensus.FatalErrorHandler;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.consensus.RaftTransport;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.server.access.Authorizer;
import io.keyrotor.server.access.DenialRecorder;
import io.keyrotor.server.access.PolicyAuthorizer;
import io.keyrotor.server.api.AdminServiceImpl;
import io.keyrotor.server.api.EventWatchers;
import io.keyrotor.server.api.KeyServiceImpl;
import io.keyrotor.server.api.MalformedRequests;
import io.keyrotor.server.api.ServerContext;
import io.keyrotor.server.api.WritePath;
import io.keyrotor.server.chaos.ChaosClock;
import io.keyrotor.server.chaos.ChaosServiceImpl;
import io.keyrotor.server.clock.ClockAssessment;
import io.keyrotor.server.clock.ClockGuard;
import io.keyrotor.server.clock.ClockProbe;
import io.keyrotor.server.clock.PeerClocks;
import io.keyrotor.server.config.ConfigException;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.dataplane.DataPlane;
import io.keyrotor.server.dataplane.KekCache;
import io.keyrotor.server.hsm.DevelopmentLayout;
import io.keyrotor.server.hsm.HsmExecutor;
import io.keyrotor.server.hsm.HsmTasks;
import io.keyrotor.server.hsm.ZoneMasterKeyRotationDriver;
import io.keyrotor.server.metrics.NodeMetrics;
import io.keyrotor.server.rotation.RotationEngine;
import io.keyrotor.server.transport.ApiTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running keyrotor node: its HSM, its Raft member over the replicated state, and the gRPC API
 * (KeyService, AdminService, health, reflection). Starts in that order and refuses to start, with
 * one clear message, when any part cannot be used.
 */
public final class KeyrotorNode implements AutoCloseable {
  /** How often refused calls are proposed into the audit chain. */
  private static final Duration DENIAL_FLUSH_INTERVAL = Duration.ofSeconds(1);

  private static final Logger LOG = LoggerFactory.getLogger(KeyrotorNode.class);

  /**
   * The gRPC health service name that reports the HSM: NOT_SERVING while the HSM does not answer
   * (the node is degraded; the overall "" service stays SERVING, since cached KEKs keep working).
   */
  public static final String HSM_HEALTH_SERVICE = "keyrotor.hsm";

  /** How often cached KEKs of versions that became unusable by a snapshot install are dropped. */
  private static final Duration KEK_SWEEP_INTERVAL = Duration.ofSeconds(5);

  /** The gRPC server and what its shutdown takes care of beside it. */
  private record Api(
      Server server, AdminServiceImpl admin, HealthStatusManager health, EventWatchers watchers) {}

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
      HsmTasks hsmTasks,
      Api api,
      ClockProbe clockProbe) {}

  private final Parts parts;

  private KeyrotorNode(Parts parts) {
    this.parts = parts;
  }

  /** Starts a node. {@code fatal} decides what a storage failure under an applied entry does. */
  public static KeyrotorNode start(NodeConfig config, Clock realClock, FatalErrorHandler fatal)
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
    Hsm hsm = openHsm(config);
    NodeExecutors executors = NodeExecutors.create(config.flow().hsmQueueCapacity());
    NodeConfig.DataPlaneSettings dataPlaneSettings = config.dataPlane();
    KekCache kekCache =
        new KekCache(
            hsm, dataPlaneSettings.kekCacheMaxEntries(), dataPlaneSettings.kekCacheIdleTimeout());
    NodeMetrics metrics = new NodeMetrics();
    RotationEngine rotation = new RotationEngine(metrics.registry());
    RaftNode raft = null;
    HsmTasks hsmTasks = null;
    ClockProbe clockProbe = null;
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
      raft = startRaft(config, clockGuard, fatal, metrics, kekCache, rotation, transport);
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
      Api api =
          startApi(
              config,
              context,
              dataPlane,
              hsmTasks,
              executors,
              metrics,
              health,
              chaosClock,
              transport,
              clockGuard);
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
                  hsmTasks,
                  api,
                  clockProbe));
      NodeRegistration.start(config, hsm, raft, executors.scheduler());
      PolicyBootstrap.start(config, raft, executors.scheduler());
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
      if (clockProbe != null) {
        clockProbe.close();
      }
      rotation.close();
      if (hsmTasks != null) {
        hsmTasks.close();
      }
      closeAll(raft, hsm, executors, kekCache);
      executors.api().shutdownNow();
      throw e;
    }
  }

  /**
   * The Raft member over {@code transport}'s credentials, with the apply listeners of the metrics,
   * the KEK cache and rotation.
   */
  private static RaftNode startRaft(
      NodeConfig config,
      CommandClock clock,
      FatalErrorHandler fatal,
      NodeMetrics metrics,
      KekCache kekCache,
      RotationEngine rotation,
      ApiTransport transport)
      throws StartupException {
    // The Raft port speaks mutual TLS with the same credentials as the API (the node certificate
    // is its server and client identity), or plaintext where the configuration says insecure
    // (loopback only, checked by NodeConfig).
    RaftTransport raftTransport =
        transport
            .credentials()
            .map(RaftTransport::mutualTls)
            .orElseGet(RaftTransport::insecureLoopback);
    ConsensusConfig consensus =
        ConsensusConfig.of(
                config.nodeId(), config.raftPeers(), config.clusterName(), config.dataDirectory())
            .withElectionTimeout(config.electionTimeoutMin(), config.electionTimeoutMax())
            .withReads(config.leaderLease(), true)
            .withSnapshots(config.snapshotThreshold(), 1_024)
            .withRatisOverrides(config.ratisOverrides())
            .withTransport(raftTransport)
            .withJoining(config.membership().join());
    try {
      return RaftNode.start(
          consensus,
          clock,
          fatal,
          List.of(metrics.applyListener(), kekCache.applyListener(), rotation.applyListener()));
    } catch (IOException e) {
      throw new StartupException(e.getMessage(), e);
    }
  }

  /**
   * The gRPC API on the node's API pool: KeyService and AdminService behind the metrics
   * interceptor, health, reflection, and in chaos mode the chaos service. Every write RPC takes the
   * one write path: validate, authorise, build (KEKs on the HSM executor), propose, answer.
   */
  private static Api startApi(
      NodeConfig config,
      ServerContext context,
      DataPlane dataPlane,
      HsmTasks hsmTasks,
      NodeExecutors executors,
      NodeMetrics metrics,
      HealthStatusManager health,
      ChaosClock chaosClockOrNull,
      ApiTransport transport,
      ClockGuard clockGuard)
      throws StartupException {
    EventWatchers watchers = new EventWatchers(context);
    watchers.registerMetrics(metrics.registry());
    executors.dataPlane().registerMetrics(metrics.registry(), "dataplane.queue");
    RaftNode raft = context.raft();
    DenialRecorder denials = new DenialRecorder(config.nodeId(), raft::propose);
    var unusedDenialFlush =
        executors
            .scheduler()
            .scheduleWithFixedDelay(
                denials::flush,
                DENIAL_FLUSH_INTERVAL.toMillis(),
                DENIAL_FLUSH_INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
    Authorizer authorizer = new PolicyAuthorizer(raft::state, denials);
    WritePath writes = new WritePath(context, authorizer, hsmTasks.calls(), executors.blocking());
    // The last interceptor listed runs first: metrics see every call, refused ones included;
    // then authentication puts the caller's principal in the context.
    ServerInterceptor authentication = transport.authentication();
    AdminServiceImpl admin =
        new AdminServiceImpl(
            context,
            executors.blocking(),
            zone -> hsmTasks.driver().lastError(zone).orElse(null),
            writes,
            transport,
            clockGuard);
    // Every service but health authenticates its caller (Caller.PRINCIPAL); the metrics
    // interceptor runs outside it, so refused calls are counted too. Request bytes that do not
    // parse are INVALID_ARGUMENT (MalformedRequests), not gRPC's UNKNOWN.
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(socketAddress(config.apiAddress()))
            .executor(executors.api())
            .addService(
                ServerInterceptors.intercept(
                    MalformedRequests.refusedAsInvalid(
                        new KeyServiceImpl(context, dataPlane, watchers, writes).bindService()),
                    authentication,
                    metrics.rpcInterceptor()))
            .addService(
                ServerInterceptors.intercept(
                    MalformedRequests.refusedAsInvalid(admin.bindService()),
                    ClockProbe.probeCallMarker(),
                    authentication,
                    metrics.rpcInterceptor()))
            .addService(health.getHealthService())
            .addService(
                ServerInterceptors.intercept(
                    ProtoReflectionServiceV1.newInstance(), authentication));
    ApiTransport.limit(builder, config.flow());
    try {
      builder = transport.secure(builder);
    } catch (SSLException e) {
      throw new StartupException(
          "cannot set up TLS for the gRPC API on " + config.apiAddress() + ": " + e.getMessage(),
          e);
    }
    if (chaosClockOrNull != null) {
      LOG.warn(
          "Node {} runs in CHAOS MODE (chaos.enabled=true, chaos.test-cluster=true): a cluster"
              + " administrator may skew its clock and delay its Raft traffic; never use this"
              + " outside a test cluster",
          config.nodeId());
      builder.addService(
          ServerInterceptors.intercept(
              new ChaosServiceImpl(config.nodeId(), chaosClockOrNull, context.raft(), authorizer),
              authentication));
    }
    Server server = builder.build();
    try {
      server.start();
    } catch (IOException e) {
      throw new StartupException(
          "cannot listen for the gRPC API on " + config.apiAddress() + ": " + e.getMessage(), e);
    }
    health.setStatus("", ServingStatus.SERVING);
    return new Api(server, admin, health, watchers);
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

  /** The node's cache of unwrapped key-encryption keys. */
  public KekCache kekCache() {
    return parts.kekCache();
  }

  @Override
  public void close() {
    Api api = parts.api();
    api.health().enterTerminalState();
    api.server().shutdown();
    try {
      api.server().awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    api.server().shutdownNow();
    parts.executors().api().shutdownNow();
    parts.clockProbe().close();
    parts.rotation().close();
    parts.hsmTasks().close();
    api.admin().close();
    api.watchers().close();
    closeAll(parts.raft(), parts.hsm(), parts.executors(), parts.kekCache());
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

  private static InetSocketAddress socketAddress(String address) {
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
