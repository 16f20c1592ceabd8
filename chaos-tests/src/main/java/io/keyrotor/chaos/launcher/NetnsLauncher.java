package io.keyrotor.chaos.launcher;

import io.grpc.ChannelCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs each node as its own JVM in its own Linux network namespace, on a bridge, as root:
 *
 * <pre>
 * host: bridge krcbr&lt;run&gt; 10.77.0.254/24 -- veth krcv&lt;run&gt;n&lt;i&gt;
 *   namespace krc-&lt;run&gt;-n&lt;i&gt;: eth0 10.77.0.i/24, nft table "inet chaos" (input/output chains)
 *   process: ip netns exec krc-&lt;run&gt;-n&lt;i&gt; java ... -jar server/target/keyrotor-server.jar run
 *            --config &lt;run&gt;/cluster/n&lt;i&gt;/node.properties   (chaos.enabled=true)
 *   TLS:     &lt;run&gt;/cluster/tls: node n&lt;i&gt;'s certificate names 10.77.0.i; the driver is "admin"
 *
 * </pre>
 *
 * Every fault rule lives inside the namespaces (heal = flush my chains). One run at a time per
 * host: a lock file serializes runs, so whatever carries the {@code krc-} prefix when a run starts
 * was leaked by a crashed run and is reaped (processes killed, namespaces, bridges and veths
 * deleted). {@link #close()} and a JVM shutdown hook tear everything down again.
 *
 * <p>The parts: {@link HostLock}, {@link NamespaceNetwork} (bridge, veths, namespaces), {@link
 * NodeProcesses} (configurations and node JVMs), {@link NamespaceFaults} (nft and tc faults).
 */
public final class NetnsLauncher implements NodeLauncher, SpareNodes {
  /** Names of everything this launcher creates start with this. */
  public static final String PREFIX = NamespaceNetwork.PREFIX;

  /**
   * How the nodes run.
   *
   * @param nodes 3 or 5
   * @param electionTimeoutMin Ratis rpc.timeout.min
   * @param electionTimeoutMax Ratis rpc.timeout.max
   * @param leaderLease the leader lease for reads
   * @param javaOptions the node JVMs' options
   * @param nodeSettings extra {@code KEY=VALUE} lines for every node's configuration, written last
   *     (e.g. {@code ratis.raft.server.log.appender.retry.policy=...} to run the suite against
   *     another Raft setting)
   */
  public record Settings(
      int nodes,
      Duration electionTimeoutMin,
      Duration electionTimeoutMax,
      boolean leaderLease,
      List<String> javaOptions,
      List<String> nodeSettings) {
    public Settings {
      javaOptions = List.copyOf(javaOptions);
      nodeSettings = nodeSettings.stream().map(Settings::nodeSetting).toList();
    }

    /**
     * A node setting as written: one {@code KEY=VALUE} line, stripped (the node checks the rest).
     */
    public static String nodeSetting(String text) {
      int eq = text.indexOf('=');
      if (eq <= 0 || text.substring(0, eq).isBlank() || text.contains("\n")) {
        throw new IllegalArgumentException("a node setting is one KEY=VALUE line, not: " + text);
      }
      return text.strip();
    }

    public static Settings defaults(int nodes) {
      return new Settings(
          nodes,
          Duration.ofSeconds(1),
          Duration.ofSeconds(2),
          true,
          List.of(
              "-Xmx192m",
              "-XX:+UseSerialGC",
              "-XX:TieredStopAtLevel=1",
              "-XX:ActiveProcessorCount=1"),
          List.of());
    }

    public Settings withNodeSettings(List<String> settings) {
      return new Settings(
          nodes, electionTimeoutMin, electionTimeoutMax, leaderLease, javaOptions, settings);
    }
  }

  private final List<String> nodeIds = new ArrayList<>();
  private final List<String> spareIds = new ArrayList<>();
  private final HostLock lock = new HostLock();
  private final NamespaceNetwork network;
  private final NodeProcesses processes;
  private final NamespaceFaults faults;
  private final Thread shutdownHook = new Thread(this::close, "chaos-netns-teardown");
  private boolean closed;

  /**
   * @param runDirectory the run's artifact directory (cluster/ and nodes/ go there)
   * @param serverJar the shaded server jar
   * @param runTag a short tag for this run's names (lower-case letters and digits, at most 5)
   */
  public NetnsLauncher(Path runDirectory, Path serverJar, Settings settings, String runTag) {
    this(runDirectory, serverJar, settings, runTag, 0);
  }

  /**
   * @param spares how many more nodes to lay out as joiners (n(N+1)...), for the membership nemesis
   */
  public NetnsLauncher(
      Path runDirectory, Path serverJar, Settings settings, String runTag, int spares) {
    if (!runTag.matches("[a-z0-9]{1,5}")) {
      throw new IllegalArgumentException("run tag must be 1-5 of [a-z0-9]: " + runTag);
    }
    if (spares < 0 || settings.nodes() + spares > 9) {
      throw new IllegalArgumentException("nodes plus spares must be at most 9");
    }
    for (int i = 1; i <= settings.nodes(); i++) {
      nodeIds.add("n" + i);
    }
    for (int i = settings.nodes() + 1; i <= settings.nodes() + spares; i++) {
      spareIds.add("n" + i);
    }
    List<String> slots = new ArrayList<>(nodeIds);
    slots.addAll(spareIds);
    this.network = new NamespaceNetwork(runTag, slots);
    this.processes =
        new NodeProcesses(
            runDirectory.toAbsolutePath(),
            serverJar.toAbsolutePath(),
            settings,
            network,
            slots,
            nodeIds.size());
    this.faults = new NamespaceFaults(network, slots);
  }

  @Override
  public List<String> nodeIds() {
    return List.copyOf(nodeIds);
  }

  @Override
  public Optional<SpareNodes> spares() {
    return spareIds.isEmpty() ? Optional.empty() : Optional.of(this);
  }

  @Override
  public List<String> spareIds() {
    return List.copyOf(spareIds);
  }

  @Override
  public synchronized void resetToJoiner(String nodeId) throws IOException {
    processes.kill(nodeId);
    processes.resetToJoiner(nodeId);
  }

  @Override
  public String raftAddress(String nodeId) {
    return address(nodeId)
        + ":"
        + (NodeProcesses.API_PORT_BASE + 100 + Integer.parseInt(nodeId.substring(1)));
  }

  @Override
  public String region(String nodeId) {
    return processes.region(nodeId);
  }

  public String namespace(String nodeId) {
    return network.namespace(nodeId);
  }

  /** The node's address on the bridge. */
  public static String address(String nodeId) {
    return NamespaceNetwork.address(nodeId);
  }

  /**
   * The cluster's directory: node configurations and data, and {@code tls/} (the development CA,
   * node certificates naming the namespace addresses, the {@code admin} and {@code service} caller
   * certificates).
   */
  public Path clusterDirectory() {
    return processes.clusterDirectory();
  }

  /**
   * Mutual TLS as the cluster's administrator (its {@code tls/admin.pem}, trusting its {@code
   * tls/ca.pem}); valid once {@link #startAll()} has written the cluster.
   */
  public ChannelCredentials adminCredentials() throws IOException {
    return ClusterTls.adminCredentials(clusterDirectory());
  }

  @Override
  public String apiAddress(String nodeId) {
    return address(nodeId)
        + ":"
        + (NodeProcesses.API_PORT_BASE + Integer.parseInt(nodeId.substring(1)));
  }

  @Override
  public synchronized void startAll() throws IOException {
    lock.acquire();
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    NamespaceNetwork.reapLeftovers();
    processes.writeConfigurations();
    network.create();
    // Spares start only when the membership nemesis adds them.
    for (String id : nodeIds) {
      start(id);
    }
  }

  @Override
  public synchronized void start(String nodeId) throws IOException {
    processes.start(nodeId);
  }

  @Override
  public synchronized void kill(String nodeId) {
    processes.kill(nodeId);
  }

  @Override
  public synchronized void pause(String nodeId) {
    processes.signal(nodeId, "-STOP");
  }

  @Override
  public synchronized void resume(String nodeId) {
    processes.signal(nodeId, "-CONT");
  }

  @Override
  public synchronized boolean isAlive(String nodeId) {
    return processes.isAlive(nodeId);
  }

  @Override
  public synchronized Map<String, Long> pids() {
    return processes.pids();
  }

  /** Every pid each node ran under during the run (restarts add one). */
  public synchronized Map<String, List<Long>> pidHistory() {
    return processes.pidHistory();
  }

  /** The namespace faults: nft drops and tbf inside the nodes' namespaces. */
  @Override
  public Optional<NetworkFaults> network() {
    return Optional.of(faults);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // shutting down already, or the hook was never added
    }
    processes.killAll();
    network.delete();
    lock.release();
  }
}
