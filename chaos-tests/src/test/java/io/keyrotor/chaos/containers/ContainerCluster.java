package io.keyrotor.chaos.containers;

import io.grpc.ChannelCredentials;
import io.keyrotor.chaos.launcher.ChaosRules;
import io.keyrotor.chaos.launcher.ClusterTls;
import io.keyrotor.chaos.launcher.NetworkFaults;
import io.keyrotor.chaos.launcher.NodeLauncher;
import io.keyrotor.chaos.launcher.TestClusterLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.testcontainers.utility.DockerImageName;

/**
 * A keyrotor cluster of {@link KeyrotorContainer}s on a network the test creates, behind the chaos
 * suite's {@link NodeLauncher}, so the existing nemesis, workloads and checkers drive it unchanged:
 * kill, restart, pause and resume go through the engine, and the network faults are nft drop rules
 * inside the containers ({@link NetworkFaults}).
 *
 * <p>The configuration is what {@code scripts/cluster up} writes ({@code keyrotor-server
 * local-cluster}: software HSM key files, the development CA and certificates, the bootstrap
 * policy), with each peer's address moved to its container's fixed IP address on the cluster's
 * network ({@code 10.213.N.12:7202}: the network has no DNS, see {@link StaticNetwork}), each
 * node's certificate issued again to name that address (its peers check it) besides 127.0.0.1 and
 * localhost (the driver dials the mapped port on 127.0.0.1), chaos mode on (a test cluster), Raft
 * timeouts of 1-2 s and followers serving ReadIndex reads, as in the namespace tier. Every node
 * listens on its own ports, so one configuration serves both tiers' conventions.
 *
 * <p>Everything the test talks to is a port published on 127.0.0.1 or a container on this cluster's
 * own network, by IP literal; {@link #close()} removes the containers and the network (also after a
 * failure).
 */
public final class ContainerCluster implements NodeLauncher, NetworkFaults {
  static final int API_PORT_BASE = 7100;

  private final Path runDirectory;
  private final Path serverJar;
  private final List<String> nodeIds = new ArrayList<>();
  private final Map<String, KeyrotorContainer> containers = new TreeMap<>();
  private final Map<String, List<Long>> pidHistory = new TreeMap<>();
  private StaticNetwork network;
  private DockerImageName image;
  private boolean closed;

  /**
   * @param runDirectory the run's artifacts: {@code cluster/} (configurations, TLS, data) and
   *     {@code nodes/} (each node's output)
   * @param serverJar the shaded server jar (the image holds it; local-cluster runs from it)
   * @param nodes 3 or 5
   */
  public ContainerCluster(Path runDirectory, Path serverJar, int nodes) {
    this.runDirectory = runDirectory.toAbsolutePath();
    this.serverJar = serverJar.toAbsolutePath();
    for (int i = 1; i <= nodes; i++) {
      nodeIds.add("n" + i);
    }
  }

  @Override
  public List<String> nodeIds() {
    return List.copyOf(nodeIds);
  }

  public Path clusterDirectory() {
    return runDirectory.resolve("cluster");
  }

  /** Mutual TLS as the cluster's administrator, trusting only its development CA. */
  public ChannelCredentials adminCredentials() throws IOException {
    return ClusterTls.adminCredentials(clusterDirectory());
  }

  public KeyrotorContainer container(String nodeId) {
    KeyrotorContainer container = containers.get(nodeId);
    if (container == null) {
      throw new IllegalArgumentException("no node " + nodeId);
    }
    return container;
  }

  @Override
  public String apiAddress(String nodeId) {
    return container(nodeId).apiAddress();
  }

  /** Node nI's fixed address on the cluster's network: host number 10 + I. */
  private String address(String nodeId) {
    return network.address(10 + Integer.parseInt(nodeId.substring(1)));
  }

  static int apiPort(String nodeId) {
    return API_PORT_BASE + Integer.parseInt(nodeId.substring(1));
  }

  @Override
  public synchronized void startAll() throws IOException {
    network = StaticNetwork.create();
    writeConfigurations();
    image = KeyrotorImage.forJar(serverJar);
    for (String id : nodeIds) {
      containers.put(
          id,
          new KeyrotorContainer(image, id, apiPort(id), address(id), clusterDirectory(), network)
              .withStartupAttempts(1)
              .withOutputTo(runDirectory.resolve("nodes").resolve(id + ".start.log")));
    }
    // All at once: each node's port answers only once its JVM is up, and the JVMs start slowly.
    ExecutorService starting = Executors.newFixedThreadPool(containers.size());
    try {
      List<Future<?>> started = new ArrayList<>();
      containers.values().forEach(c -> started.add(starting.submit(c::start)));
      for (Future<?> f : started) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting the nodes", e);
    } catch (ExecutionException e) {
      throw new IOException("a node container did not start: " + e.getCause(), e.getCause());
    } finally {
      starting.shutdownNow();
    }
    containers.forEach((id, c) -> recordPid(id, c.hostPid()));
  }

  @Override
  public synchronized void start(String nodeId) {
    KeyrotorContainer container = container(nodeId);
    if (!container.isRunningNode()) {
      container.restartNode();
      recordPid(nodeId, container.hostPid());
    }
  }

  @Override
  public synchronized void kill(String nodeId) {
    KeyrotorContainer container = container(nodeId);
    if (container.isRunningNode()) {
      if (isPaused(container)) {
        container.unpause();
      }
      container.killNode();
    }
  }

  @Override
  public synchronized void pause(String nodeId) {
    KeyrotorContainer container = container(nodeId);
    if (container.isRunningNode() && !isPaused(container)) {
      container.pause();
    }
  }

  @Override
  public synchronized void resume(String nodeId) {
    KeyrotorContainer container = container(nodeId);
    if (isPaused(container)) {
      container.unpause();
    }
  }

  private static boolean isPaused(KeyrotorContainer container) {
    Boolean paused =
        container
            .getDockerClient()
            .inspectContainerCmd(container.getContainerId())
            .exec()
            .getState()
            .getPaused();
    return Boolean.TRUE.equals(paused);
  }

  @Override
  public synchronized boolean isAlive(String nodeId) {
    return container(nodeId).isRunningNode();
  }

  @Override
  public synchronized Map<String, Long> pids() {
    Map<String, Long> out = new LinkedHashMap<>();
    containers.forEach(
        (id, c) -> {
          if (c.isRunningNode()) {
            out.put(id, c.hostPid());
          }
        });
    return out;
  }

  /** Every host pid each node's JVM ran under (restarts add one). */
  public synchronized Map<String, List<Long>> pidHistory() {
    Map<String, List<Long>> out = new TreeMap<>();
    pidHistory.forEach((id, pids) -> out.put(id, List.copyOf(pids)));
    return out;
  }

  private void recordPid(String nodeId, long pid) {
    pidHistory.computeIfAbsent(nodeId, k -> new ArrayList<>()).add(pid);
  }

  @Override
  public Optional<NetworkFaults> network() {
    return Optional.of(this);
  }

  // --- network faults: nft inside the containers ------------------------------------------------

  @Override
  public synchronized void partition(Map<String, Set<String>> grudge) {
    Map<String, String> addresses = new TreeMap<>();
    nodeIds.forEach(id -> addresses.put(id, container(id).networkAddress()));
    grudge.forEach(
        (a, others) ->
            others.forEach(
                b -> {
                  drop(a, addresses.get(b));
                  drop(b, addresses.get(a));
                }));
  }

  private void drop(String nodeId, String peerAddress) {
    KeyrotorContainer container = container(nodeId);
    ensureChaosTable(container);
    ChaosRules.cutOffFrom(peerAddress).forEach(rule -> addRule(container, rule));
  }

  @Override
  public synchronized void loss(String nodeId, int percent) {
    KeyrotorContainer container = container(nodeId);
    ensureChaosTable(container);
    // Only the peers' traffic: the driver's connections come through the mapped port too.
    for (String other : nodeIds) {
      if (!other.equals(nodeId)) {
        addRule(container, ChaosRules.lossFrom(container(other).networkAddress(), percent));
      }
    }
  }

  private static void addRule(KeyrotorContainer container, List<String> rule) {
    List<String> command = new ArrayList<>(List.of("add", "rule"));
    command.addAll(rule);
    container.nft(command.toArray(String[]::new));
  }

  /** No rate limit here: the tier has no tc inside its containers. */
  @Override
  public boolean slow(String nodeId) {
    return false;
  }

  /**
   * Deletes the {@code inet chaos} table in every running container, then checks that none is left
   * (a heal that silently failed would look like a liveness bug).
   */
  @Override
  public synchronized void heal() {
    for (String id : nodeIds) {
      KeyrotorContainer container = container(id);
      if (!container.isRunningNode()) {
        continue; // a restarted container starts with a new network namespace
      }
      boolean paused = isPaused(container);
      if (paused) {
        container.unpause();
      }
      try {
        String tables = container.nft("list", "tables");
        if (tables.contains("inet chaos")) {
          container.nft("delete", "table", "inet", "chaos");
        }
        if (container.nft("list", "tables").contains("inet chaos")) {
          throw new IllegalStateException("cannot heal " + id + ": its chaos table is still there");
        }
      } finally {
        if (paused) {
          container.pause();
        }
      }
    }
  }

  private static void ensureChaosTable(KeyrotorContainer container) {
    if (container.nft("list", "tables").contains("inet chaos")) {
      return;
    }
    container.nft("add", "table", "inet", "chaos");
    container.nft(
        "add", "chain", "inet", "chaos", "input", "{ type filter hook input priority 0 ; }");
    container.nft(
        "add", "chain", "inet", "chaos", "output", "{ type filter hook output priority 0 ; }");
  }

  // --- configuration ----------------------------------------------------------------------------

  private void writeConfigurations() throws IOException {
    Files.createDirectories(runDirectory.resolve("nodes"));
    Path clusterDir = clusterDirectory();
    TestClusterLayout.create(
        KeyrotorContainer.hostJava(), serverJar, clusterDir, nodeIds, API_PORT_BASE, this::address);
    List<String> settings =
        new ArrayList<>(
            TestClusterLayout.chaosSettings(Duration.ofSeconds(1), Duration.ofSeconds(2), true));
    // Listen on every interface of the container, reached at its fixed address: the address is
    // the container's, and a listener bound to it would depend on the interface being up when
    // the JVM starts (a restarted or reconnected container).
    settings.add("bind.host=0.0.0.0");
    for (String id : nodeIds) {
      TestClusterLayout.moveToNetwork(clusterDir, id, this::address, peer -> true, settings);
    }
  }

  /**
   * Writes each node's output (all its runs: the engine keeps a container's log) to {@code
   * nodes/<id>.log}, and the engine's view of its container (status, exit code, whether the kernel
   * killed it for memory, start and finish times) to {@code nodes/<id>.state}: a node that never
   * answered is told apart from a container that never ran its process.
   */
  private void saveLogs() {
    containers.forEach(
        (id, c) -> {
          Path nodes = runDirectory.resolve("nodes");
          try {
            Files.writeString(nodes.resolve(id + ".log"), c.getLogs());
          } catch (IOException | RuntimeException e) {
            // the log is an artifact; a container that never started has none
          }
          try {
            Files.writeString(nodes.resolve(id + ".state"), c.engineState() + "\n");
          } catch (IOException | RuntimeException e) {
            // likewise
          }
        });
  }

  /** Saves the nodes' logs, removes the containers and the network. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    saveLogs();
    for (KeyrotorContainer container : containers.values()) {
      try {
        if (isPaused(container)) {
          container.unpause();
        }
      } catch (RuntimeException e) {
        // gone already
      }
      container.stop();
    }
    if (network != null) {
      network.close();
    }
  }
}
