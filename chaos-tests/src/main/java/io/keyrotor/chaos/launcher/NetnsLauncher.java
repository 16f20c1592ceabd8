package io.keyrotor.chaos.launcher;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs each node as its own JVM in its own Linux network namespace, on a bridge, as root:
 *
 * <pre>
 * host: bridge krcbr&lt;run&gt; 10.77.0.254/24 -- veth krcv&lt;run&gt;n&lt;i&gt;
 *   namespace krc-&lt;run&gt;-n&lt;i&gt;: eth0 10.77.0.i/24, nft table "inet chaos" (input/output chains)
 *   process: ip netns exec krc-&lt;run&gt;-n&lt;i&gt; java ... -jar server/target/keyrotor-server.jar run
 *            --config &lt;run&gt;/cluster/n&lt;i&gt;/node.properties   (chaos.enabled=true)
 * </pre>
 *
 * Every fault rule lives inside the namespaces (heal = flush my chains). One run at a time per
 * host: a lock file serializes runs, so whatever carries the {@code krc-} prefix when a run starts
 * was leaked by a crashed run and is reaped (processes killed, namespaces, bridges and veths
 * deleted). {@link #close()} and a JVM shutdown hook tear everything down again.
 */
public final class NetnsLauncher implements NodeLauncher, NetworkFaults {
  /** Names of everything this launcher creates start with this. */
  public static final String PREFIX = "krc";

  private static final Path LOCK_FILE = Path.of("/run/lock/keyrotor-chaos.lock");
  private static final String SUBNET = "10.77.0";
  private static final int API_PORT_BASE = 7100;

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

  private final Path runDirectory;
  private final Path serverJar;
  private final Settings settings;
  private final String runTag;
  private final String bridge;
  private final List<String> nodeIds = new ArrayList<>();
  private final Map<String, Process> processes = new TreeMap<>();
  private final Map<String, List<Long>> allPids = new TreeMap<>();
  private final Thread shutdownHook = new Thread(this::close, "chaos-netns-teardown");
  private FileChannel lockChannel;
  private FileLock lock;
  private boolean closed;

  /**
   * @param runDirectory the run's artifact directory (cluster/ and nodes/ go there)
   * @param serverJar the shaded server jar
   * @param runTag a short tag for this run's names (lower-case letters and digits, at most 5)
   */
  public NetnsLauncher(Path runDirectory, Path serverJar, Settings settings, String runTag) {
    if (!runTag.matches("[a-z0-9]{1,5}")) {
      throw new IllegalArgumentException("run tag must be 1-5 of [a-z0-9]: " + runTag);
    }
    this.runDirectory = runDirectory.toAbsolutePath();
    this.serverJar = serverJar.toAbsolutePath();
    this.settings = settings;
    this.runTag = runTag;
    this.bridge = PREFIX + "br" + runTag;
    for (int i = 1; i <= settings.nodes(); i++) {
      nodeIds.add("n" + i);
    }
  }

  @Override
  public List<String> nodeIds() {
    return List.copyOf(nodeIds);
  }

  public String namespace(String nodeId) {
    return PREFIX + "-" + runTag + "-" + nodeId;
  }

  /** The node's address on the bridge. */
  public static String address(String nodeId) {
    return SUBNET + "." + Integer.parseInt(nodeId.substring(1));
  }

  @Override
  public String apiAddress(String nodeId) {
    return address(nodeId) + ":" + (API_PORT_BASE + Integer.parseInt(nodeId.substring(1)));
  }

  private Path nodeDirectory(String nodeId) {
    return runDirectory.resolve("cluster").resolve(nodeId);
  }

  private Path logFile(String nodeId) {
    return runDirectory.resolve("nodes").resolve(nodeId + ".log");
  }

  @Override
  public synchronized void startAll() throws IOException {
    acquireLock();
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    reapLeftovers();
    Files.createDirectories(runDirectory.resolve("nodes"));
    writeConfigurations();
    createNetwork();
    for (String id : nodeIds) {
      start(id);
    }
  }

  private void acquireLock() throws IOException {
    Files.createDirectories(LOCK_FILE.getParent());
    lockChannel = FileChannel.open(LOCK_FILE, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
    boolean told = false;
    while ((lock = lockChannel.tryLock()) == null) {
      if (System.nanoTime() > deadline) {
        throw new IOException("another chaos run has held " + LOCK_FILE + " for 30 minutes");
      }
      if (!told) {
        System.err.println("chaos: waiting for another namespace run on this host to finish");
        told = true;
      }
      sleep(1000);
    }
  }

  /** Kills and deletes whatever an earlier run with this launcher's prefix left behind. */
  static List<String> reapLeftovers() {
    List<String> reaped = new ArrayList<>();
    for (String line : Shell.run("ip", "netns", "list").stdout().split("\n", -1)) {
      String ns = line.strip().split("\\s+", -1)[0];
      if (!ns.startsWith(PREFIX + "-")) {
        continue;
      }
      for (String pid : Shell.run("ip", "netns", "pids", ns).stdout().split("\\s+", -1)) {
        if (!pid.isBlank()) {
          Shell.run("kill", "-9", pid.strip());
        }
      }
      Shell.run("ip", "netns", "del", ns);
      reaped.add(ns);
    }
    Pattern link = Pattern.compile("^\\d+:\\s+([^:@\\s]+)");
    for (String line : Shell.run("ip", "-o", "link", "show").stdout().split("\n", -1)) {
      Matcher m = link.matcher(line);
      if (m.find() && m.group(1).startsWith(PREFIX)) {
        Shell.run("ip", "link", "del", m.group(1));
        reaped.add(m.group(1));
      }
    }
    if (!reaped.isEmpty()) {
      System.err.println("chaos: reaped leftovers of an earlier run: " + reaped);
    }
    return reaped;
  }

  /**
   * The same layout {@code scripts/cluster up} writes ({@code keyrotor-server local-cluster}:
   * software HSM key files with shared zone master keys), with each node's addresses moved to its
   * namespace, chaos mode on and the run's Raft settings.
   */
  private void writeConfigurations() throws IOException {
    Path clusterDir = runDirectory.resolve("cluster");
    Shell.Result written =
        Shell.run(
            List.of(
                javaBinary(),
                "-jar",
                serverJar.toString(),
                "local-cluster",
                "--dir",
                clusterDir.toString(),
                "--nodes",
                String.valueOf(settings.nodes()),
                "--base-port",
                String.valueOf(API_PORT_BASE)),
            null,
            Duration.ofSeconds(60));
    written.orThrow();
    Pattern peer = Pattern.compile("^peer\\.n(\\d+)\\.(raft|api)=127\\.0\\.0\\.1:(\\d+)$");
    for (String id : nodeIds) {
      Path file = nodeDirectory(id).resolve("node.properties");
      StringBuilder out = new StringBuilder();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        Matcher m = peer.matcher(line);
        if (m.matches()) {
          line =
              "peer.n"
                  + m.group(1)
                  + "."
                  + m.group(2)
                  + "="
                  + SUBNET
                  + "."
                  + m.group(1)
                  + ":"
                  + m.group(3);
        } else if (line.startsWith("raft.")) {
          continue;
        }
        out.append(line).append('\n');
      }
      out.append("# chaos run settings\n");
      out.append("chaos.enabled=true\n");
      out.append("raft.election-timeout-min=")
          .append(settings.electionTimeoutMin().toMillis())
          .append("ms\n");
      out.append("raft.election-timeout-max=")
          .append(settings.electionTimeoutMax().toMillis())
          .append("ms\n");
      out.append("raft.leader-lease=").append(settings.leaderLease()).append('\n');
      // Followers serve data-plane reads through ReadIndex instead of redirecting to the leader,
      // so "encrypt on one node, decrypt on another" really runs on another node.
      out.append("reads.follower=read-index\n");
      for (String setting : settings.nodeSettings()) {
        out.append(setting).append('\n');
      }
      Files.writeString(file, out.toString(), StandardCharsets.UTF_8);
    }
  }

  private void createNetwork() throws IOException {
    Shell.check("ip", "link", "add", bridge, "type", "bridge");
    Shell.check("ip", "addr", "add", SUBNET + ".254/24", "dev", bridge);
    Shell.check("ip", "link", "set", bridge, "up");
    for (String id : nodeIds) {
      String ns = namespace(id);
      String hostSide = PREFIX + "v" + runTag + id;
      String nsSide = PREFIX + "p" + runTag + id;
      Shell.check("ip", "netns", "add", ns);
      Shell.check("ip", "link", "add", hostSide, "type", "veth", "peer", "name", nsSide);
      Shell.check("ip", "link", "set", nsSide, "netns", ns);
      Shell.check("ip", "link", "set", hostSide, "master", bridge, "up");
      Shell.check("ip", "-n", ns, "link", "set", "lo", "up");
      Shell.check("ip", "-n", ns, "link", "set", nsSide, "name", "eth0");
      Shell.check("ip", "-n", ns, "addr", "add", address(id) + "/24", "dev", "eth0");
      Shell.check("ip", "-n", ns, "link", "set", "eth0", "up");
      Shell.run(
              List.of("ip", "netns", "exec", ns, "nft", "-f", "-"),
              """
              table inet chaos {
                chain input  { type filter hook input  priority -10; policy accept; }
                chain output { type filter hook output priority -10; policy accept; }
              }
              """,
              Duration.ofSeconds(10))
          .orThrow();
    }
  }

  @Override
  public synchronized void start(String nodeId) throws IOException {
    Process running = processes.get(nodeId);
    if (running != null && running.isAlive()) {
      return;
    }
    List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace(nodeId)));
    command.add(javaBinary());
    command.addAll(settings.javaOptions());
    command.addAll(
        List.of(
            "-jar",
            serverJar.toString(),
            "run",
            "--config",
            nodeDirectory(nodeId).resolve("node.properties").toString()));
    Path log = logFile(nodeId);
    Files.writeString(
        log,
        "=== chaos: starting " + nodeId + " at " + java.time.Instant.now() + "\n",
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    // ip netns exec execs in place: the pid of this process is the node JVM's pid.
    Process process =
        new ProcessBuilder(command)
            .directory(nodeDirectory(nodeId).toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    processes.put(nodeId, process);
    allPids.computeIfAbsent(nodeId, k -> new ArrayList<>()).add(process.pid());
  }

  @Override
  public synchronized void kill(String nodeId) {
    Process process = processes.get(nodeId);
    if (process == null) {
      return;
    }
    Shell.run("kill", "-9", String.valueOf(process.pid()));
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized void pause(String nodeId) {
    Process process = processes.get(nodeId);
    if (process != null && process.isAlive()) {
      Shell.run("kill", "-STOP", String.valueOf(process.pid()));
    }
  }

  @Override
  public synchronized void resume(String nodeId) {
    Process process = processes.get(nodeId);
    if (process != null && process.isAlive()) {
      Shell.run("kill", "-CONT", String.valueOf(process.pid()));
    }
  }

  @Override
  public synchronized boolean isAlive(String nodeId) {
    Process process = processes.get(nodeId);
    return process != null && process.isAlive();
  }

  @Override
  public synchronized Map<String, Long> pids() {
    Map<String, Long> out = new LinkedHashMap<>();
    processes.forEach(
        (id, p) -> {
          if (p.isAlive()) {
            out.put(id, p.pid());
          }
        });
    return out;
  }

  /** Every pid each node ran under during the run (restarts add one). */
  public synchronized Map<String, List<Long>> pidHistory() {
    Map<String, List<Long>> out = new TreeMap<>();
    allPids.forEach((id, pids) -> out.put(id, List.copyOf(pids)));
    return out;
  }

  @Override
  public Optional<NetworkFaults> network() {
    return Optional.of(this);
  }

  // --- network faults -------------------------------------------------------------------------

  private void nft(String nodeId, String... rule) {
    List<String> command =
        new ArrayList<>(List.of("ip", "netns", "exec", namespace(nodeId), "nft", "add", "rule"));
    command.addAll(List.of(rule));
    Shell.Result result = Shell.run(command, null, Duration.ofSeconds(10));
    if (!result.ok()) {
      throw new IllegalStateException("nft failed: " + result);
    }
  }

  @Override
  public synchronized void partition(Map<String, Set<String>> grudge) {
    grudge.forEach(
        (a, others) -> {
          for (String b : others) {
            nft(a, "inet", "chaos", "input", "ip", "saddr", address(b), "drop");
            nft(a, "inet", "chaos", "output", "ip", "daddr", address(b), "drop");
            nft(b, "inet", "chaos", "input", "ip", "saddr", address(a), "drop");
            nft(b, "inet", "chaos", "output", "ip", "daddr", address(a), "drop");
          }
        });
  }

  @Override
  public synchronized void loss(String nodeId, int percent) {
    nft(
        nodeId,
        "inet",
        "chaos",
        "input",
        "ip",
        "saddr",
        SUBNET + ".0/24",
        "numgen",
        "random",
        "mod",
        "100",
        "lt",
        String.valueOf(percent),
        "drop");
  }

  @Override
  public synchronized boolean slow(String nodeId) {
    return Shell.run(
            "ip",
            "netns",
            "exec",
            namespace(nodeId),
            "tc",
            "qdisc",
            "add",
            "dev",
            "eth0",
            "root",
            "tbf",
            "rate",
            "256kbit",
            "burst",
            "4kb",
            "latency",
            "2s")
        .ok();
  }

  /**
   * Removes every drop rule and rate limit, then checks that none is left (a heal that silently
   * failed would leave a node cut off and look like a liveness bug); tries three times.
   */
  @Override
  public synchronized void heal() {
    for (String id : nodeIds) {
      String ns = namespace(id);
      String left = "";
      for (int attempt = 0; attempt < 3; attempt++) {
        Shell.run("ip", "netns", "exec", ns, "nft", "flush", "chain", "inet", "chaos", "input");
        Shell.run("ip", "netns", "exec", ns, "nft", "flush", "chain", "inet", "chaos", "output");
        Shell.run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "eth0", "root");
        left = faultsLeft(ns);
        if (left.isEmpty()) {
          break;
        }
      }
      if (!left.isEmpty()) {
        throw new IllegalStateException("cannot heal " + id + ": " + left);
      }
    }
  }

  /** What is still in place in namespace {@code ns}: drop rules, a tbf qdisc; empty if none. */
  private static String faultsLeft(String ns) {
    return faultsIn(
        Shell.run("ip", "netns", "exec", ns, "nft", "list", "table", "inet", "chaos"),
        Shell.run("ip", "netns", "exec", ns, "tc", "qdisc", "show", "dev", "eth0"));
  }

  /**
   * What a namespace's listings show still in place: drop rules in {@code nft list table inet
   * chaos}, a tbf qdisc in {@code tc qdisc show}; a listing that failed counts too (a heal that
   * cannot be checked is not a heal). Empty if none.
   */
  static String faultsIn(Shell.Result rules, Shell.Result qdisc) {
    StringBuilder left = new StringBuilder();
    if (!rules.ok()) {
      left.append("nft list failed: ").append(rules).append("; ");
    } else if (rules.stdout().contains("drop")) {
      left.append("drop rules: ").append(rules.stdout().strip()).append("; ");
    }
    if (!qdisc.ok()) {
      left.append("tc show failed: ").append(qdisc).append("; ");
    } else if (qdisc.stdout().contains("tbf")) {
      left.append("rate limit: ").append(qdisc.stdout().strip());
    }
    return left.toString();
  }

  // --- teardown --------------------------------------------------------------------------------

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
    for (Process process : processes.values()) {
      Shell.run("kill", "-CONT", String.valueOf(process.pid()));
      Shell.run("kill", "-9", String.valueOf(process.pid()));
    }
    for (Process process : processes.values()) {
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (String id : nodeIds) {
      String ns = namespace(id);
      for (String pid : Shell.run("ip", "netns", "pids", ns).stdout().split("\\s+", -1)) {
        if (!pid.isBlank()) {
          Shell.run("kill", "-9", pid.strip());
        }
      }
      Shell.run("ip", "netns", "del", ns);
      Shell.run("ip", "link", "del", PREFIX + "v" + runTag + id);
    }
    Shell.run("ip", "link", "del", bridge);
    try {
      if (lock != null) {
        lock.release();
      }
      if (lockChannel != null) {
        lockChannel.close();
      }
    } catch (IOException e) {
      // the lock goes with the process anyway
    }
  }

  static String javaBinary() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
