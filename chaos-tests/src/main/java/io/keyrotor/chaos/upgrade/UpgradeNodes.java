package io.keyrotor.chaos.upgrade;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The node processes of a rolling upgrade on loopback: a cluster laid out by the old jar's own
 * {@code local-cluster} command (so its configuration is what that release wrote), each node a
 * {@code java -jar JAR run} process in its directory, stopped with SIGTERM as an operator stops a
 * node before replacing its binary. Which jar each node runs is recorded for the run's summary.
 */
final class UpgradeNodes implements AutoCloseable {
  private static final List<String> JVM_OPTIONS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private final String java;
  private final Path directory;
  private final List<String> ids;
  private final Map<String, String> apiAddresses = new LinkedHashMap<>();
  private final Map<String, Process> processes = new LinkedHashMap<>();
  private final Map<String, Path> jars = new LinkedHashMap<>();

  private UpgradeNodes(String java, Path directory, List<String> ids, List<String> apis) {
    this.java = java;
    this.directory = directory;
    this.ids = List.copyOf(ids);
    for (int i = 0; i < ids.size(); i++) {
      apiAddresses.put(ids.get(i), apis.get(i));
    }
  }

  /**
   * Writes a {@code count}-node cluster (software HSM) in {@code directory} with {@code
   * layoutJar}'s {@code local-cluster} command, API ports from {@code basePort + 1}.
   */
  static UpgradeNodes layOut(String java, Path layoutJar, Path directory, int count, int basePort)
      throws IOException, InterruptedException {
    Process layout =
        new ProcessBuilder(
                java,
                "-jar",
                layoutJar.toString(),
                "local-cluster",
                "--dir",
                directory.toString(),
                "--nodes",
                String.valueOf(count),
                "--base-port",
                String.valueOf(basePort),
                "--hsm",
                "software")
            .redirectErrorStream(true)
            .redirectOutput(directory.resolveSibling("layout.log").toFile())
            .start();
    if (!layout.waitFor(600, TimeUnit.SECONDS) || layout.exitValue() != 0) {
      layout.destroyForcibly();
      throw new IOException("local-cluster failed; see " + directory.resolveSibling("layout.log"));
    }
    List<String> apis =
        List.of(
            Files.readString(directory.resolve("servers"), StandardCharsets.UTF_8)
                .trim()
                .split(","));
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      ids.add("n" + i);
      // Followers serve data-plane calls through ReadIndex instead of answering UNAVAILABLE
      // NOT_LEADER (the default, redirect), so the final decrypts read each node's own state.
      // Both releases know the setting.
      Files.writeString(
          directory.resolve("n" + i).resolve("node.properties"),
          "reads.follower=read-index\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.APPEND);
    }
    return new UpgradeNodes(java, directory, ids, apis);
  }

  List<String> ids() {
    return ids;
  }

  String apiAddress(String id) {
    return apiAddresses.get(id);
  }

  /** The jar {@code id} runs (or last ran). */
  Path jar(String id) {
    return jars.get(id);
  }

  /** Starts {@code id} from {@code jar}, appending to {@code DIR/id/node.log}. */
  void start(String id, Path jar) throws IOException {
    Path nodeDirectory = directory.resolve(id);
    Process process =
        new ProcessBuilder(command(jar, nodeDirectory.resolve("node.properties")))
            .directory(nodeDirectory.toFile())
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(nodeDirectory.resolve("node.log").toFile()))
            .start();
    processes.put(id, process);
    jars.put(id, jar);
  }

  private List<String> command(Path jar, Path config) {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(JVM_OPTIONS);
    command.addAll(List.of("-jar", jar.toString(), "run", "--config", config.toString()));
    return command;
  }

  /** Whether {@code id}'s process is running. */
  boolean alive(String id) {
    Process process = processes.get(id);
    return process != null && process.isAlive();
  }

  /** SIGTERM, then SIGKILL after 30 s; returns the exit status. */
  int stop(String id) throws InterruptedException {
    Process process = processes.remove(id);
    if (process == null) {
      return 0;
    }
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    return process.exitValue();
  }

  /** The last {@code lines} lines of {@code id}'s log. */
  String logTail(String id, int lines) {
    try {
      List<String> all = Files.readAllLines(directory.resolve(id).resolve("node.log"));
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Stops every node still running. */
  @Override
  public void close() {
    try {
      for (String id : List.copyOf(processes.keySet())) {
        stop(id);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      processes.values().forEach(Process::destroyForcibly);
    }
  }
}
