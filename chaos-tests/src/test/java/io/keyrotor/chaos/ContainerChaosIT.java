package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.keyrotor.chaos.checker.AnomaliesJson;
import io.keyrotor.chaos.checker.CheckResult;
import io.keyrotor.chaos.checker.RunSummary;
import io.keyrotor.chaos.containers.ContainerCluster;
import io.keyrotor.chaos.containers.KeyrotorContainer;
import io.keyrotor.chaos.history.EventType;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.HistoryRecorder;
import io.keyrotor.chaos.nemesis.ClusterControl;
import io.keyrotor.chaos.nemesis.Nemesis;
import io.keyrotor.chaos.nemesis.NemesisKind;
import io.keyrotor.chaos.runner.ChaosRunner;
import io.keyrotor.chaos.workload.GrpcNodeApi;
import io.keyrotor.chaos.workload.NodeApi;
import io.keyrotor.chaos.workload.OpError;
import io.keyrotor.chaos.workload.Workload;
import io.keyrotor.chaos.workload.Workloads;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.testcontainers.DockerClientFactory;

/**
 * The container tier: three keyrotor nodes in containers ({@link KeyrotorContainer}) on a network
 * the test creates, mutual TLS with the cluster's development CA, the software HSM, and the suite's
 * own workloads, history and checkers.
 *
 * <ul>
 *   <li>{@link #shortTier_pauseKillDisconnectAndPartition_noAnomaly}, in every {@code
 *       scripts/test}: W1 (rotations as an append-only list) and W2 (the primary version as a
 *       compare-and-set register, checked for linearizability) run for about a minute while the
 *       leader is paused through the engine, then the leader is killed (SIGKILL) and its container
 *       started again, a follower is disconnected from the network and reconnected, and a node is
 *       cut off by nft rules inside the containers. Every fault is journaled in the history; every
 *       check must pass, the killed leader must lose its leadership, and every node must converge.
 *   <li>{@link #longTier_randomNemesis_noAnomaly}, from {@code scripts/chaos --containers}: the
 *       suite's random nemesis (kill, pause, partitions, loss, clock, transfers) for {@code
 *       -Dchaos.containers.seconds} with W1-W6.
 * </ul>
 *
 * <p>Needs root and the container engine ({@code scripts/container-engine start}: rootful podman's
 * Docker API on {@code /run/podman/podman.sock}); otherwise skipped, or failed under CI ({@code
 * CI=true}), as the namespace tier. Artifacts: {@code chaos-tests/target/chaos/containers-*}.
 */
class ContainerChaosIT {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();
  private static final Path SERVER_JAR = REPO.resolve("server/target/keyrotor-server.jar");

  private static final Path ENGINE_SOCKET = Path.of("/run/podman/podman.sock");

  @BeforeAll
  static void requireEngine() {
    List<String> missing = new ArrayList<>();
    if (!"root".equals(System.getProperty("user.name"))) {
      missing.add("root (the engine is rootful podman)");
    }
    if (!Files.exists(SERVER_JAR)) {
      missing.add("the server jar " + SERVER_JAR + " (mvn -B -pl server -am package)");
    }
    if (!Files.exists(ENGINE_SOCKET)) {
      missing.add("podman's Docker API on " + ENGINE_SOCKET);
    } else if (!DockerClientFactory.instance().isDockerAvailable()) {
      missing.add("an answer from podman's Docker API on " + ENGINE_SOCKET);
    }
    EnvironmentRequirement.ofThisProcess()
        .require(
            "ContainerChaosIT (the container tier)",
            missing,
            "Start the engine as root with scripts/container-engine start (scripts/test does).");
  }

  @Test
  void shortTier_pauseKillDisconnectAndPartition_noAnomaly() throws Exception {
    Path directory = runDirectory("short");
    long seed = 0xC0117A1L;
    try (ContainerCluster cluster = new ContainerCluster(directory, SERVER_JAR, 3)) {
      cluster.startAll();
      try (Driver driver = new Driver(cluster, directory)) {
        driver.awaitLeader(Duration.ofMinutes(2));
        Workloads workloads =
            driver.workloads(
                "c" + Long.toHexString(seed & 0xfff),
                EnumSet.of(Workload.W1, Workload.W2),
                12,
                seed);
        ExecutorService background = Executors.newSingleThreadExecutor();
        Future<?> load =
            background.submit(
                () -> {
                  workloads.run(Duration.ofSeconds(60));
                  return null;
                });
        Faults faults = new Faults(cluster, driver);
        faults.settle(6);

        String paused = driver.leader();
        faults.pause(paused, 5);
        faults.settle(6);

        String killed = driver.leader();
        long pidBefore = cluster.pids().get(killed);
        faults.kill(killed);
        String successor = driver.awaitLeaderOtherThan(killed, Duration.ofSeconds(60));
        assertNotEquals(killed, successor, "the killed leader kept its leadership");
        faults.restart(killed);
        assertNotEquals(pidBefore, cluster.pids().get(killed), "the node did not restart");
        faults.settle(6);

        String follower = driver.follower();
        faults.disconnect(follower, 5);
        faults.settle(4);

        faults.isolate(driver.leader(), 6);

        load.get(5, TimeUnit.MINUTES);
        background.shutdown();
        driver.finish(workloads, List.of(), "containers/short", seed, Duration.ofSeconds(60));
      }
    }
  }

  @Test
  @EnabledIfSystemProperty(named = "chaos.containers.seconds", matches = "\\d+")
  void longTier_randomNemesis_noAnomaly() throws Exception {
    Duration limit = Duration.ofSeconds(Long.getLong("chaos.containers.seconds"));
    long seed = Long.decode(System.getProperty("chaos.containers.seed", "0x5EED"));
    Set<NemesisKind> kinds =
        NemesisKind.parse(
            System.getProperty(
                "chaos.containers.nemesis", "partition,loss,kill,pause,clock,transfer"));
    Set<Workload> workloadSet =
        Workload.parse(System.getProperty("chaos.containers.workloads", "all"));
    Path directory = runDirectory("long");
    try (ContainerCluster cluster = new ContainerCluster(directory, SERVER_JAR, 3)) {
      cluster.startAll();
      try (Driver driver = new Driver(cluster, directory);
          PrintWriter nemesisLog =
              new PrintWriter(
                  Files.newBufferedWriter(
                      directory.resolve("nemesis.log"), StandardCharsets.UTF_8))) {
        driver.awaitLeader(Duration.ofMinutes(2));
        Workloads workloads =
            driver.workloads("l" + Long.toHexString(seed & 0xfff), workloadSet, 20, seed);
        Nemesis nemesis =
            new Nemesis(
                cluster,
                driver.control,
                driver.recorder,
                kinds,
                seed * 31 + 7,
                Nemesis.Timing.standard(),
                nemesisLog,
                false);
        Thread thread = new Thread(nemesis, "container-nemesis");
        thread.setDaemon(true);
        thread.start();
        workloads.run(limit);
        nemesis.stop();
        thread.join(60_000);
        nemesis.healEverything();
        driver.finish(
            workloads,
            nemesis.kinds().stream().map(NemesisKind::id).toList(),
            "containers/long",
            seed,
            Duration.ofSeconds(60));
      }
    }
  }

  private static Path runDirectory(String tier) throws IOException {
    String id =
        "containers-"
            + tier
            + "-"
            + LocalDateTime.now(ZoneId.systemDefault())
                .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path directory = REPO.resolve("chaos-tests/target/chaos").resolve(id).toAbsolutePath();
    Files.createDirectories(directory);
    return directory;
  }

  /** The driver's side: one gRPC API per node (mutual TLS as admin), the history, the checks. */
  private static final class Driver implements AutoCloseable {
    private final ContainerCluster cluster;
    private final Path directory;
    private final Map<String, GrpcNodeApi> apis = new LinkedHashMap<>();
    private final ClusterControl control;
    private final HistoryRecorder recorder;

    Driver(ContainerCluster cluster, Path directory) throws IOException {
      this.cluster = cluster;
      this.directory = directory;
      ChannelCredentials credentials = cluster.adminCredentials();
      Map<String, ManagedChannel> channels = new LinkedHashMap<>();
      for (String id : cluster.nodeIds()) {
        GrpcNodeApi api =
            new GrpcNodeApi(
                id,
                cluster.apiAddress(id),
                credentials,
                Duration.ofSeconds(8),
                Duration.ofSeconds(5));
        apis.put(id, api);
        channels.put(id, api.channel());
      }
      this.control = new ClusterControl(channels);
      this.recorder = HistoryRecorder.toFile(directory.resolve("history.jsonl"));
    }

    Workloads workloads(String runId, Set<Workload> set, double opsPerSecond, long seed) {
      Workloads workloads =
          new Workloads(
              new Workloads.Config(runId, 6, opsPerSecond, 50, set, 5_000, seed),
              new ArrayList<NodeApi>(apis.values()),
              recorder);
      workloads.prepare();
      return workloads;
    }

    /** The leader most nodes name, waiting up to a minute for one (an election may be running). */
    String leader() throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < deadline) {
        Optional<String> leader = control.leader();
        if (leader.isPresent()) {
          return leader.get();
        }
        Thread.sleep(200);
      }
      throw new AssertionError("no node names a leader within a minute");
    }

    String follower() throws InterruptedException {
      String leader = leader();
      return cluster.nodeIds().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    }

    void awaitLeader(Duration patience) throws InterruptedException {
      long deadline = System.nanoTime() + patience.toNanos();
      while (System.nanoTime() < deadline) {
        boolean all = true;
        for (GrpcNodeApi api : apis.values()) {
          try {
            all &= !api.status().leaderIdOrEmpty().isEmpty();
          } catch (OpError e) {
            all = false;
          }
        }
        if (all) {
          return;
        }
        Thread.sleep(500);
      }
      throw new AssertionError("the container cluster elected no leader within " + patience);
    }

    String awaitLeaderOtherThan(String old, Duration patience) throws InterruptedException {
      long deadline = System.nanoTime() + patience.toNanos();
      while (System.nanoTime() < deadline) {
        for (String id : cluster.nodeIds()) {
          if (id.equals(old)) {
            continue;
          }
          try {
            String leader = apis.get(id).status().leaderIdOrEmpty();
            if (!leader.isEmpty() && !leader.equals(old)) {
              return leader;
            }
          } catch (OpError e) {
            // electing; ask again
          }
        }
        Thread.sleep(200);
      }
      return old;
    }

    /** Heal, converge, final reads and status, the checkers; fails on any anomaly. */
    void finish(
        Workloads workloads,
        List<String> nemesisKinds,
        String profile,
        long seed,
        Duration patience)
        throws IOException {
      cluster.heal();
      for (String id : cluster.nodeIds()) {
        cluster.resume(id);
        cluster.start(id);
      }
      ChaosRunner.Finished finished =
          ChaosRunner.finishAfterHeal(
              workloads,
              List.copyOf(apis.values()),
              recorder,
              directory.resolve("history.jsonl"),
              cluster.nodeIds(),
              patience);
      boolean converged = finished.converged();
      History history = finished.history();
      List<CheckResult> checks = finished.checks();
      RunSummary summary =
          new RunSummary(
              new RunSummary.Run(
                  directory.getFileName().toString(),
                  seed,
                  profile,
                  cluster.nodeIds().size(),
                  Duration.ofSeconds(60),
                  directory.toString(),
                  "mvn -B -pl chaos-tests -am verify -Dtest=none"
                      + " -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=ContainerChaosIT",
                  List.of(
                      "launcher: containers (podman's Docker API, Testcontainers)",
                      "workloads: " + workloads.active(),
                      "nemesis: " + (nemesisKinds.isEmpty() ? "scripted" : nemesisKinds),
                      "node pids: " + cluster.pidHistory())),
              history,
              checks,
              null);
      String rendered = summary.render();
      Files.writeString(directory.resolve("anomalies.json"), AnomaliesJson.render(checks));
      Files.writeString(directory.resolve("summary.txt"), rendered);
      System.out.print(rendered);
      assertTrue(converged, "the nodes did not converge after the heal; see " + directory);
      for (CheckResult check : checks) {
        assertTrue(
            check.passed(), check.name() + " did not pass; see " + directory + "\n" + rendered);
      }
      assertEquals(RunSummary.Result.PASS, summary.result(), rendered);
    }

    @Override
    public void close() {
      apis.values().forEach(GrpcNodeApi::close);
      try {
        recorder.close();
      } catch (IOException e) {
        // closed by finish()
      }
    }
  }

  /** The short tier's faults, each journaled in the history as the nemesis journals its own. */
  private static final class Faults {
    private final ContainerCluster cluster;
    private final Driver driver;

    Faults(ContainerCluster cluster, Driver driver) {
      this.cluster = cluster;
      this.driver = driver;
    }

    void pause(String node, int seconds) throws InterruptedException {
      journal(EventType.INVOKE, "pause-leader", node);
      cluster.pause(node);
      journal(EventType.INFO, "pause-leader", node);
      settle(seconds);
      journal(EventType.INVOKE, "resume", node);
      cluster.resume(node);
      journal(EventType.INFO, "resume", node);
    }

    void kill(String node) {
      journal(EventType.INVOKE, "kill-leader", node);
      cluster.kill(node);
      journal(EventType.INFO, "kill-leader", node);
    }

    void restart(String node) {
      journal(EventType.INVOKE, "restart", node);
      cluster.start(node);
      journal(EventType.INFO, "restart", node);
    }

    void disconnect(String node, int seconds) throws InterruptedException {
      journal(EventType.INVOKE, "network-disconnect", node);
      cluster.container(node).disconnect();
      journal(EventType.INFO, "network-disconnect", node);
      settle(seconds);
      journal(EventType.INVOKE, "network-connect", node);
      cluster.container(node).reconnect();
      journal(EventType.INFO, "network-connect", node);
    }

    void isolate(String node, int seconds) throws InterruptedException {
      Set<String> others = new TreeSet<>(cluster.nodeIds());
      others.remove(node);
      journal(EventType.INVOKE, "isolate-node", node);
      cluster.partition(Map.of(node, others));
      journal(EventType.INFO, "isolate-node", node);
      settle(seconds);
      journal(EventType.INVOKE, "heal", null);
      cluster.heal();
      journal(EventType.INFO, "heal", null);
    }

    void settle(int seconds) throws InterruptedException {
      Thread.sleep(seconds * 1000L);
    }

    private void journal(EventType type, String f, String node) {
      JsonObject value = new JsonObject();
      value.addProperty("kind", f);
      value.addProperty("via", "container engine");
      driver.recorder.nemesis(type, f, node, value);
    }
  }
}
