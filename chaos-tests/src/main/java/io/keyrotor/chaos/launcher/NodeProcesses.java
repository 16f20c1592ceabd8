package io.keyrotor.chaos.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The node JVMs of a namespace run: their configurations ({@code cluster/n<i>/node.properties}),
 * and each node as {@code ip netns exec <namespace> java ... -jar keyrotor-server.jar run}, its
 * output appended to {@code nodes/n<i>.log}; SIGKILL, SIGSTOP and SIGCONT, and every pid each node
 * ran under.
 */
final class NodeProcesses {
  static final int API_PORT_BASE = 7100;

  private final Path runDirectory;
  private final Path serverJar;
  private final NetnsLauncher.Settings settings;
  private final NamespaceNetwork network;
  private final List<String> nodeIds;
  private final int firstGroup;
  private final Map<String, Process> processes = new TreeMap<>();
  private final Map<String, List<Long>> allPids = new TreeMap<>();

  NodeProcesses(
      Path runDirectory,
      Path serverJar,
      NetnsLauncher.Settings settings,
      NamespaceNetwork network,
      List<String> nodeIds,
      int firstGroup) {
    this.runDirectory = runDirectory;
    this.serverJar = serverJar;
    this.settings = settings;
    this.network = network;
    this.nodeIds = List.copyOf(nodeIds);
    this.firstGroup = firstGroup;
  }

  private Path nodeDirectory(String nodeId) {
    return runDirectory.resolve("cluster").resolve(nodeId);
  }

  private Path logFile(String nodeId) {
    return runDirectory.resolve("nodes").resolve(nodeId + ".log");
  }

  /** The cluster's directory ({@code cluster/}: node directories and {@code tls/}). */
  Path clusterDirectory() {
    return runDirectory.resolve("cluster");
  }

  /**
   * The layout {@code scripts/cluster up} writes, moved to the namespaces ({@link
   * TestClusterLayout}): the driver and the Raft peers dial each node's namespace address, and TLS
   * checks the name. The first group's members list the first group only; spares join later.
   */
  void writeConfigurations() throws IOException {
    Files.createDirectories(runDirectory.resolve("nodes"));
    Path clusterDir = clusterDirectory();
    TestClusterLayout.create(
        javaBinary(), serverJar, clusterDir, nodeIds, API_PORT_BASE, NamespaceNetwork::address);
    List<String> lines =
        new ArrayList<>(
            TestClusterLayout.chaosSettings(
                settings.electionTimeoutMin(),
                settings.electionTimeoutMax(),
                settings.leaderLease()));
    lines.addAll(settings.nodeSettings());
    for (String id : nodeIds) {
      boolean spare = isSpare(id);
      List<String> nodeLines = new ArrayList<>(lines);
      if (spare) {
        nodeLines.add(JOINER.strip());
      }
      TestClusterLayout.moveToNetwork(
          clusterDir, id, NamespaceNetwork::address, peer -> spare || !isSpare(peer), nodeLines);
    }
  }

  private static final String JOINER = "cluster.join=true\n";

  private boolean isSpare(String nodeId) {
    return Integer.parseInt(nodeId.substring(1)) > firstGroup;
  }

  /**
   * Deletes the (stopped) node's data and makes its configuration a joiner's: what a new machine
   * under its id would be. Its HSM key file and certificate stay.
   */
  synchronized void resetToJoiner(String nodeId) throws IOException {
    Process running = processes.get(nodeId);
    if (running != null && running.isAlive()) {
      throw new IllegalStateException(nodeId + " is still running");
    }
    Path data = nodeDirectory(nodeId).resolve("data");
    if (Files.exists(data)) {
      try (java.util.stream.Stream<Path> walk = Files.walk(data)) {
        for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(path);
        }
      }
    }
    Path file = nodeDirectory(nodeId).resolve("node.properties");
    String config = Files.readString(file, StandardCharsets.UTF_8);
    if (!config.contains(JOINER)) {
      Files.writeString(file, config + JOINER, StandardCharsets.UTF_8);
    }
    Files.writeString(
        logFile(nodeId),
        "=== chaos: " + nodeId + " reset to a joiner (data deleted) at " + Instant.now() + "\n",
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  /** The region the node's configuration names. */
  String region(String nodeId) {
    try {
      for (String line :
          Files.readAllLines(
              nodeDirectory(nodeId).resolve("node.properties"), StandardCharsets.UTF_8)) {
        if (line.startsWith("node.region=")) {
          return line.substring("node.region=".length()).strip();
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return "local";
  }

  /** Starts the node if it is not running; its data is kept. */
  synchronized void start(String nodeId) throws IOException {
    Process running = processes.get(nodeId);
    if (running != null && running.isAlive()) {
      return;
    }
    List<String> command = new ArrayList<>();
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
        "=== chaos: starting " + nodeId + " at " + Instant.now() + "\n",
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    // ip netns exec execs in place: the pid of this process is the node JVM's pid.
    Process process =
        new ProcessBuilder(network.inNamespace(nodeId, command.toArray(String[]::new)))
            .directory(nodeDirectory(nodeId).toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    processes.put(nodeId, process);
    allPids.computeIfAbsent(nodeId, k -> new ArrayList<>()).add(process.pid());
  }

  synchronized void kill(String nodeId) {
    Process process = processes.get(nodeId);
    if (process == null) {
      return;
    }
    Shell.run("kill", "-9", String.valueOf(process.pid()));
    awaitExit(process);
  }

  /** Sends {@code signal} ({@code -STOP}, {@code -CONT}) to the node if it is alive. */
  synchronized void signal(String nodeId, String signal) {
    Process process = processes.get(nodeId);
    if (process != null && process.isAlive()) {
      Shell.run("kill", signal, String.valueOf(process.pid()));
    }
  }

  synchronized boolean isAlive(String nodeId) {
    Process process = processes.get(nodeId);
    return process != null && process.isAlive();
  }

  synchronized Map<String, Long> pids() {
    Map<String, Long> out = new LinkedHashMap<>();
    processes.forEach(
        (id, p) -> {
          if (p.isAlive()) {
            out.put(id, p.pid());
          }
        });
    return out;
  }

  synchronized Map<String, List<Long>> pidHistory() {
    Map<String, List<Long>> out = new TreeMap<>();
    allPids.forEach((id, pids) -> out.put(id, List.copyOf(pids)));
    return out;
  }

  /** SIGCONT and SIGKILL to every node (a paused one too), then waits for each to exit. */
  synchronized void killAll() {
    for (Process process : processes.values()) {
      Shell.run("kill", "-CONT", String.valueOf(process.pid()));
      Shell.run("kill", "-9", String.valueOf(process.pid()));
    }
    processes.values().forEach(NodeProcesses::awaitExit);
  }

  private static void awaitExit(Process process) {
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String javaBinary() {
    return ProcessHandle.current().info().command().orElse("java");
  }
}
