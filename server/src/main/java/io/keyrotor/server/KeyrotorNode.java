package io.keyrotor.server;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.keyrotor.consensus.ConsensusConfig;
import io.keyrotor.consensus.FatalErrorHandler;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.server.access.PermitAllAuthorizer;
import io.keyrotor.server.api.AdminServiceImpl;
import io.keyrotor.server.api.EventWatchers;
import io.keyrotor.server.api.KeyServiceImpl;
import io.keyrotor.server.api.ServerContext;
import io.keyrotor.server.api.WritePath;
import io.keyrotor.server.chaos.ChaosClock;
import io.keyrotor.server.chaos.ChaosServiceImpl;
import io.keyrotor.server.config.ConfigException;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.dataplane.DataPlane;
import io.keyrotor.server.dataplane.KekCache;
import io.keyrotor.server.hsm.HsmExecutor;
import io.keyrotor.server.hsm.HsmHealthProbe;
import io.keyrotor.server.hsm.ZoneMasterKeyRotationDriver;
import io.keyrotor.server.metrics.NodeMetrics;
import io.keyrotor.server.rotation.RotationEngine;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running keyrotor node: its HSM, its Raft member over the replicated state, and the gRPC API
 * (KeyService, AdminService, health, reflection). Starts in that order and refuses to start, with
 * one clear message, when any part cannot be used.
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

  private final NodeConfig config;
  private final Hsm hsm;
  private final RaftNode raft;
  private final Server grpcServer;
  private final AdminServiceImpl admin;
  private final HealthStatusManager health;
  private final NodeMetrics metrics;
  private final ExecutorService blockingExecutor;
  private final ScheduledExecutorService scheduler;
  private final KekCache kekCache;
  private final ExecutorService dataPlaneExecutor;
  private final ExecutorService apiExecutor;
  private final DataPlane dataPlane;
  private final HsmTasks hsmTasks;
  private final RotationEngine rotation;

  /**
   * The node's HSM work: the zone master key rotation driver and the health probe (background), and
   * the executor where calls mint new key-encryption keys.
   */
  private record HsmTasks(
      ScheduledExecutorService executor,
      ZoneMasterKeyRotationDriver driver,
      HsmHealthProbe probe,
      HsmExecutor calls) {
    void close() {
      driver.close();
      probe.close();
      executor.shutdownNow();
      calls.close();
    }
  }

  private KeyrotorNode(
      NodeConfig config,
      Hsm hsm,
      RaftNode raft,
      Server grpcServer,
      AdminServiceImpl admin,
      HealthStatusManager health,
      NodeMetrics metrics,
      ExecutorService blockingExecutor,
      ScheduledExecutorService scheduler,
      KekCache kekCache,
      ExecutorService dataPlaneExecutor,
      ExecutorService apiExecutor,
      DataPlane dataPlane,
      HsmTasks hsmTasks,
      RotationEngine rotation) {
    this.hsmTasks = hsmTasks;
    this.rotation = rotation;
    this.config = config;
    this.hsm = hsm;
    this.raft = raft;
    this.grpcServer = grpcServer;
    this.admin = admin;
    this.health = health;
    this.metrics = metrics;
    this.blockingExecutor = blockingExecutor;
    this.scheduler = scheduler;
    this.kekCache = kekCache;
    this.dataPlaneExecutor = dataPlaneExecutor;
    this.apiExecutor = apiExecutor;
    this.dataPlane = dataPlane;
  }

  /** Starts a node. {@code fatal} decides what a storage failure under an applied entry does. */
  public static KeyrotorNode start(NodeConfig config, Clock realClock, FatalErrorHandler fatal)
      throws StartupException {
    // In chaos mode the one clock the node reads is one the chaos service can skew.
    ChaosClock chaosClock = config.chaosMode() ? new ChaosClock(realClock) : null;
    Clock clock = chaosClock != null ? chaosClock : realClock;
    Hsm hsm = openHsm(config);
    RaftNode raft = null;
    HsmTasks hsmTasks = null;
    ExecutorService blocking = Executors.newCachedThreadPool(daemon("keyrotor-admin"));
    ScheduledExecutorService scheduler =
        Executors.newSingleThreadScheduledExecutor(daemon("keyrotor-scheduler"));
    NodeConfig.DataPlaneSettings dataPlaneSettings = config.dataPlane();
    KekCache kekCache =
        new KekCache(
            hsm, dataPlaneSettings.kekCacheMaxEntries(), dataPlaneSettings.kekCacheIdleTimeout());
    // HSM unwraps on a cache miss and batch calls run here, never on a Raft or gRPC I/O thread.
    ExecutorService dataPlaneExecutor =
        Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()), daemon("keyrotor-dataplane"));
    // Handlers never wait on the network (proposals, read barriers and the data plane complete
    // asynchronously; watchers and admin calls have their own threads), so a small fixed pool
    // serves them: grpc-java's default cached pool cost reads and the data plane 2-3x their
    // throughput on two cores (docs/benchmarks-history.md, "gRPC server executor").
    ExecutorService apiExecutor =
        Executors.newFixedThreadPool(
            Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), daemon("keyrotor-api"));
    NodeMetrics metrics = new NodeMetrics();
    RotationEngine rotation = new RotationEngine(metrics.registry());
    try {
      ConsensusConfig consensus =
          ConsensusConfig.of(
                  config.nodeId(), config.raftPeers(), config.clusterName(), config.dataDirectory())
              .withElectionTimeout(config.electionTimeoutMin(), config.electionTimeoutMax())
              .withReads(config.leaderLease(), true)
              .withSnapshots(config.snapshotThreshold(), 1_024)
              .withRatisOverrides(config.ratisOverrides());
      raft =
          RaftNode.start(
              consensus,
              clock,
              fatal,
              List.of(metrics.applyListener(), kekCache.applyListener(), rotation.applyListener()));
      // Version states are evaluated at the node's clock, floored at the last applied command's
      // (replicated) time, so a node whose clock is behind never un-activates a rotation.
      RaftNode started = raft;
      Clock servingClock =
          new AppliedTimeFloorClock(clock, () -> started.state().lastCommandTimeMillis());
      ServerContext context =
          new ServerContext(raft, hsm, config, servingClock, Duration.ofSeconds(10));
      DataPlane dataPlane =
          DataPlane.of(
              raft,
              dataPlaneSettings.followerReads(),
              config.zones(),
              kekCache,
              servingClock,
              dataPlaneExecutor,
              rotation.usage());
      registerKekCacheMetrics(metrics, kekCache);
      metrics.registry().gauge("apply.listener-failures", () -> started::applyListenerFailures);
      rotation.start(raft, hsm, config, clock);
      scheduler.scheduleWithFixedDelay(
          dataPlane::dropUnusableKeks,
          KEK_SWEEP_INTERVAL.toMillis(),
          KEK_SWEEP_INTERVAL.toMillis(),
          TimeUnit.MILLISECONDS);
      HealthStatusManager health = new HealthStatusManager();
      EventWatchers watchers = new EventWatchers(context);
      hsmTasks = startHsmTasks(raft, hsm, config, health);
      ZoneMasterKeyRotationDriver driver = hsmTasks.driver();
      // Every write RPC: validate, authorise, build (KEKs on the HSM executor), propose, answer.
      WritePath writes =
          new WritePath(context, new PermitAllAuthorizer(), hsmTasks.calls(), blocking);
      AdminServiceImpl admin =
          new AdminServiceImpl(
              context, blocking, zone -> driver.lastError(zone).orElse(null), writes);
      InetSocketAddress address = socketAddress(config.apiAddress());
      NettyServerBuilder builder =
          NettyServerBuilder.forAddress(address)
              .executor(apiExecutor)
              .addService(
                  ServerInterceptors.intercept(
                      new KeyServiceImpl(context, dataPlane, watchers, writes),
                      metrics.rpcInterceptor()))
              .addService(ServerInterceptors.intercept(admin, metrics.rpcInterceptor()))
              .addService(health.getHealthService())
              .addService(ProtoReflectionServiceV1.newInstance())
              .maxInboundMessageSize(4 << 20);
      if (chaosClock != null) {
        LOG.warn(
            "Node {} runs in CHAOS MODE (chaos.enabled=true): any caller may skew its clock and"
                + " delay its Raft traffic; never use this outside a test cluster",
            config.nodeId());
        builder.addService(new ChaosServiceImpl(config.nodeId(), chaosClock, raft));
      }
      Server server = builder.build();
      try {
        server.start();
      } catch (IOException e) {
        throw new StartupException(
            "cannot listen for the gRPC API on " + config.apiAddress() + ": " + e.getMessage(), e);
      }
      health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
      KeyrotorNode node =
          new KeyrotorNode(
              config,
              hsm,
              raft,
              server,
              admin,
              health,
              metrics,
              blocking,
              scheduler,
              kekCache,
              dataPlaneExecutor,
              apiExecutor,
              dataPlane,
              hsmTasks,
              rotation);
      node.registerWithCluster(UUID.randomUUID().toString(), 0);
      LOG.info(
          "Node {} (region {}, zones {}) serves the API on {}",
          config.nodeId(),
          config.region(),
          config.zones(),
          config.apiAddress());
      return node;
    } catch (IOException e) {
      rotation.close();
      closeHsmTasks(hsmTasks);
      closeAll(raft, hsm, blocking, scheduler);
      closeDataPlane(kekCache, dataPlaneExecutor);
      apiExecutor.shutdownNow();
      throw new StartupException(e.getMessage(), e);
    } catch (RuntimeException | StartupException e) {
      rotation.close();
      closeHsmTasks(hsmTasks);
      closeAll(raft, hsm, blocking, scheduler);
      closeDataPlane(kekCache, dataPlaneExecutor);
      apiExecutor.shutdownNow();
      throw e;
    }
  }

  /** HSM background work on its own thread, so a slow HSM never delays other scheduled work. */
  private static HsmTasks startHsmTasks(
      RaftNode raft, Hsm hsm, NodeConfig config, HealthStatusManager health) {
    ScheduledExecutorService executor =
        Executors.newSingleThreadScheduledExecutor(daemon("keyrotor-hsm"));
    ZoneMasterKeyRotationDriver driver =
        new ZoneMasterKeyRotationDriver(raft, hsm, config.nodeId(), config.zones());
    HsmHealthProbe probe =
        new HsmHealthProbe(
            hsm,
            healthy ->
                health.setStatus(
                    HSM_HEALTH_SERVICE,
                    healthy
                        ? io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
                        : io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING));
    health.setStatus(
        HSM_HEALTH_SERVICE, io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    driver.start(executor);
    probe.start(executor);
    return new HsmTasks(executor, driver, probe, new HsmExecutor());
  }

  private static void closeHsmTasks(HsmTasks tasks) {
    if (tasks != null) {
      tasks.close();
    }
  }

  private static Hsm openHsm(NodeConfig config) throws StartupException {
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

  /**
   * Tells the cluster (through the log) which region and zones this node serves, so any node can
   * point a caller to the nodes of a zone. Retries until a leader accepts it; the log line that
   * says so is also how scripts know that the cluster serves writes.
   */
  private void registerWithCluster(String requestId, int attempt) {
    NodeRecord record =
        NodeRecord.newBuilder()
            .setId(config.nodeId())
            .setRegion(config.region())
            .addAllZones(new TreeSet<>(config.zones()))
            .setApiAddress(config.apiAddress())
            .setHsmKind(hsm.describe().kind())
            .setHsmDescription(config.hsm().describe())
            .build();
    Command command =
        Command.newBuilder()
            .setRequestId("register-node:" + requestId)
            .setOriginNode(config.nodeId())
            .setRegisterNode(RegisterNode.newBuilder().setNode(record))
            .build();
    raft.propose(command)
        .orTimeout(10, TimeUnit.SECONDS)
        .whenComplete(
            (result, failure) -> {
              if (failure == null) {
                LOG.info("Node {} registered with the cluster", config.nodeId());
                return;
              }
              LOG.debug("Node {} not registered yet: {}", config.nodeId(), failure.toString());
              if (!scheduler.isShutdown()) {
                long delay = Math.min(5_000, 250L << Math.min(attempt, 4));
                scheduler.schedule(
                    () -> registerWithCluster(requestId, attempt + 1),
                    delay,
                    TimeUnit.MILLISECONDS);
              }
            });
  }

  public RaftNode raft() {
    return raft;
  }

  public NodeMetrics metrics() {
    return metrics;
  }

  public NodeConfig config() {
    return config;
  }

  /** This node's HSM (tests unwrap through it to check what the log holds). */
  Hsm hsm() {
    return hsm;
  }

  /** The port the gRPC API listens on. */
  public int apiPort() {
    return grpcServer.getPort();
  }

  /** Blocks until the gRPC server terminates. */
  public void awaitTermination() throws InterruptedException {
    grpcServer.awaitTermination();
  }

  @Override
  public void close() {
    health.enterTerminalState();
    grpcServer.shutdown();
    try {
      grpcServer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    grpcServer.shutdownNow();
    apiExecutor.shutdownNow();
    rotation.close();
    hsmTasks.close();
    admin.close();
    closeAll(raft, hsm, blockingExecutor, scheduler);
    closeDataPlane(kekCache, dataPlaneExecutor);
  }

  /** The node's data plane, for in-process callers (benchmarks, tools). */
  public DataPlane dataPlane() {
    return dataPlane;
  }

  /** The node's cache of unwrapped key-encryption keys. */
  public KekCache kekCache() {
    return kekCache;
  }

  private static void closeDataPlane(KekCache kekCache, ExecutorService dataPlaneExecutor) {
    dataPlaneExecutor.shutdownNow();
    kekCache.close(); // zeroes every cached key
  }

  private static void registerKekCacheMetrics(NodeMetrics metrics, KekCache cache) {
    var registry = metrics.registry();
    registry.gauge("dataplane.kek-cache.size", () -> cache::size);
    registry.gauge("dataplane.kek-cache.hits", () -> () -> cache.stats().hitCount());
    registry.gauge("dataplane.kek-cache.misses", () -> () -> cache.stats().missCount());
    registry.gauge("dataplane.kek-cache.evictions", () -> () -> cache.stats().evictionCount());
    registry.gauge("dataplane.hsm.unwraps", () -> cache::unwraps);
    registry.gauge("dataplane.hsm.unwrap-failures", () -> cache::unwrapFailures);
  }

  private static void closeAll(
      RaftNode raft, Hsm hsm, ExecutorService blocking, ScheduledExecutorService scheduler) {
    scheduler.shutdownNow();
    blocking.shutdownNow();
    if (raft != null) {
      raft.close();
    }
    hsm.close();
  }

  private static InetSocketAddress socketAddress(String address) {
    int colon = address.lastIndexOf(':');
    return new InetSocketAddress(
        address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
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
