package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.keyrotor.client.KeyrotorClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A 3-node cluster of real node processes started by {@code scripts/cluster up} (mutual TLS, Raft,
 * RocksDB, the nodes' HSMs), and {@code scripts/keyrotor} processes against it: the harness of the
 * agent's and the event publisher's end-to-end tests.
 */
final class ScriptedCluster {
  static final Path REPO = Path.of("").toAbsolutePath().getParent();

  private final Path work;
  private final Path dir;
  private final List<String> servers;
  private final List<Process> processes = new ArrayList<>();

  private ScriptedCluster(Path work, Path dir, List<String> servers) {
    this.work = work;
    this.dir = dir;
    this.servers = servers;
  }

  static ScriptedCluster up(Path work) throws Exception {
    Path dir = work.resolve("cluster");
    String up =
        script(
            work,
            "cluster",
            "up",
            "--dir",
            dir.toString(),
            "--base-port",
            String.valueOf(LocalPorts.freeBasePort(3)),
            // Generous: on a loaded machine a first leader can take minutes.
            "--timeout",
            "300");
    String serversLine = up.substring(up.lastIndexOf("servers=") + 8).lines().findFirst().get();
    return new ScriptedCluster(work, dir, List.of(serversLine.strip().split(",")));
  }

  /**
   * Runs a script to its end (3 minutes at most) and returns its output; fails on a non-zero exit.
   */
  static String script(Path work, String name, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(REPO.resolve("scripts").resolve(name).toString());
    command.addAll(List.of(args));
    Path out = Files.createTempFile(work, "out", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(work.toFile())
            .redirectOutput(out.toFile())
            .redirectErrorStream(true);
    // A resident CLI process the script starts lives in the test's directory, and stops when that
    // is removed.
    builder.environment().put("XDG_RUNTIME_DIR", work.toString());
    Process process = builder.start();
    if (!process.waitFor(360, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("timed out: " + command);
    }
    String output = Files.readString(out, StandardCharsets.UTF_8);
    assertEquals(0, process.exitValue(), () -> command + " failed: " + output);
    return output.strip();
  }

  Path dir() {
    return dir;
  }

  KeyrotorClient client(String identity) {
    return KeyrotorClient.builder()
        .endpoints(servers)
        .clusterDirectory(dir, identity)
        .deadline(Duration.ofSeconds(30))
        .build();
  }

  /**
   * Starts {@code scripts/keyrotor --cluster-dir DIR --identity service ARGS...} in the background,
   * its output (stdout and stderr) in {@code log}.
   */
  Process keyrotor(Path log, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(REPO.resolve("scripts/keyrotor").toString());
    command.addAll(List.of("--cluster-dir", dir.toString(), "--identity", "service"));
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(work.toFile())
            .redirectOutput(log.toFile())
            .redirectErrorStream(true);
    // Without the class-data archive the script execs the JVM, so the process is the JVM itself
    // and a SIGKILL reaches it (making the archive runs the JVM as a child of the script).
    builder.environment().put("KEYROTOR_CDS", "off");
    // Likewise in a JVM of its own, not handed to the resident CLI process (which would go on).
    builder.environment().put("KEYROTOR_RESIDENT", "off");
    Process process = builder.start();
    processes.add(process);
    return process;
  }

  /** Stops every node (the data stays): the cluster is unreachable until restarted. */
  void down() throws Exception {
    script(work, "cluster", "down", "--dir", dir.toString());
  }

  /** Kills one node with SIGKILL. */
  void kill(String node) throws Exception {
    script(work, "cluster", "kill", node, "--dir", dir.toString());
  }

  /** Polls {@code condition} every 50 ms until it holds; fails after {@code bound}. */
  static void await(Duration bound, String what, BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + bound.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not within " + bound + ": " + what);
      }
      Thread.sleep(50);
    }
  }

  static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (java.io.IOException e) {
      return "";
    }
  }

  /** Kills the processes started here and removes the cluster. */
  void close() throws Exception {
    for (Process process : processes) {
      process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    new ProcessBuilder(
            REPO.resolve("scripts/cluster").toString(), "down", "--dir", dir.toString(), "--wipe")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start()
        .waitFor(60, TimeUnit.SECONDS);
  }
}
