package io.keyrotor.chaos.inprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.keyrotor.chaos.checker.AnomaliesJson;
import io.keyrotor.chaos.checker.CheckResult;
import io.keyrotor.chaos.checker.RunSummary;
import io.keyrotor.chaos.history.EventType;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.HistoryRecorder;
import io.keyrotor.chaos.runner.ChaosRunner;
import io.keyrotor.chaos.runner.RunChecks;
import io.keyrotor.chaos.workload.NodeApi;
import io.keyrotor.chaos.workload.Workload;
import io.keyrotor.chaos.workload.Workloads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tier T1, in-process: the workloads W1, W2 and W4 against keyrotor's real state machine and
 * RocksDB store in Ratis's MiniRaftClusterWithGrpc, with leader and follower isolation, restarts
 * and leadership transfers; the same history format and checkers as the namespace tier. Three short
 * seeds must pass; the positive control (read option DEFAULT, reads pinned to an isolated old
 * leader) must be caught as stale reads, or the harness is blind and the test fails.
 *
 * <p>{@code -Dchaos.inprocess.seconds=N} changes the length of a seed's run.
 */
class InProcessChaosIT {
  private static final Path OUT = Path.of("target/chaos");

  private static Duration length() {
    return Duration.ofSeconds(Long.getLong("chaos.inprocess.seconds", 25));
  }

  /** What one in-process run produced. */
  private record Run(String id, History history, List<CheckResult> checks, Path directory) {}

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {0x1A2B3C4DL, 0x5EED0002L, 0x7F3A0003L})
  void seededRun_isolationsRestartsTransfers_everyCheckPasses(long seed) throws Exception {
    try (InProcessCluster cluster =
        new InProcessCluster(3, true, Duration.ofMillis(600), Duration.ofMillis(1200))) {
      Run run =
          run(
              cluster,
              "inprocess-" + Long.toHexString(seed),
              seed,
              EnumSet.of(Workload.W1, Workload.W2, Workload.W4),
              30,
              length(),
              (recorder, stop) -> new InProcessNemesis(cluster, recorder, seed, stop).run());
      RunSummary summary = summary(run, seed, "inprocess", null);
      System.out.print(summary.render());
      assertTrue(summary.passed(), () -> summary.render());
      assertTrue(cluster.fatalErrors.isEmpty(), () -> "fatal errors: " + cluster.fatalErrors);
    }
  }

  @Test
  void positiveControl_readsWithoutBarrierOnIsolatedOldLeader_caughtAsStale() throws Exception {
    long seed = 0xC0117801L;
    // Long election timeouts: the isolated leader steps down only after rpc.timeout.max without
    // a majority, while the others elect a new leader after rpc.timeout.min or more.
    try (InProcessCluster cluster =
        new InProcessCluster(3, false, Duration.ofMillis(800), Duration.ofMillis(5000))) {
      Run run =
          run(
              cluster,
              "inprocess-control",
              seed,
              EnumSet.of(Workload.W2),
              60,
              Duration.ofSeconds(34),
              (recorder, stop) -> {
                // Three rounds: a round shows a stale read only if the isolated old leader serves
                // a read after the new one commits a write, which 2 rounds missed in 1 of 5 runs.
                for (int round = 0; round < 3 && !stop.get(); round++) {
                  sleep(2_000);
                  String leader = cluster.leader().orElse("s0");
                  JsonObject value = new JsonObject();
                  value.addProperty("kind", "isolate-leader");
                  recorder.nemesis(EventType.INVOKE, "isolate-leader", leader, value);
                  cluster.isolate(leader);
                  recorder.nemesis(EventType.INFO, "isolate-leader", leader, value);
                  sleep(8_000);
                  recorder.nemesis(EventType.INVOKE, "heal", null, null);
                  cluster.heal();
                  recorder.nemesis(EventType.INFO, "heal", null, null);
                }
              });
      CheckResult control =
          run.checks().stream()
              .filter(c -> c.name().equals("W2 primary (rev)"))
              .findFirst()
              .orElseThrow();
      RunSummary summary = summary(run, seed, "inprocess/positive-control", control);
      System.out.print(summary.render());
      assertEquals(
          CheckResult.Verdict.FAIL,
          control.verdict(),
          "the positive control was not caught: the harness is blind\n" + summary.render());
      assertFalse(
          control.anomalies("stale-read").isEmpty() && control.anomalies("lost-write").isEmpty(),
          () -> "caught, but not as stale reads: " + control);
      assertTrue(summary.passed(), summary::render);
    }
  }

  /** The nemesis of a run, given the recorder and a flag that says when to stop. */
  private interface NemesisPlan {
    void run(HistoryRecorder recorder, AtomicBoolean stop) throws Exception;
  }

  private Run run(
      InProcessCluster cluster,
      String id,
      long seed,
      Set<Workload> workloads,
      double opsPerSecond,
      Duration duration,
      NemesisPlan plan)
      throws Exception {
    Path directory = OUT.resolve(id).toAbsolutePath();
    Files.createDirectories(directory);
    List<NodeApi> apis = new ArrayList<>();
    for (String node : cluster.nodeIds()) {
      apis.add(new InProcessNodeApi(cluster, node));
    }
    try (HistoryRecorder recorder = HistoryRecorder.toFile(directory.resolve("history.jsonl"))) {
      Workloads load =
          new Workloads(
              new Workloads.Config(
                  id.replaceAll("[^a-z0-9]", ""), 6, opsPerSecond, 200, workloads, 5_000, seed),
              apis,
              recorder);
      load.prepare();
      AtomicBoolean stop = new AtomicBoolean();
      Thread nemesis =
          new Thread(
              () -> {
                try {
                  plan.run(recorder, stop);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              "inprocess-nemesis");
      nemesis.setDaemon(true);
      nemesis.start();
      load.run(duration);
      // Not interrupted: a fault in progress (a restart) completes, then the nemesis stops.
      stop.set(true);
      nemesis.join(60_000);
      // Final phase: heal, restart whatever is down, converge, read everything everywhere.
      recorder.nemesis(EventType.INVOKE, "final-heal", null, null);
      cluster.heal();
      for (String node : cluster.nodeIds()) {
        if (!cluster.isAlive(node)) {
          cluster.restart(node);
        }
      }
      recorder.nemesis(EventType.INFO, "final-heal", null, null);
      cluster.awaitLeader(Duration.ofSeconds(30));
      ChaosRunner.awaitConvergence(apis, Duration.ofSeconds(30));
      load.finalReads();
      load.finalStatus(Duration.ofSeconds(30));
    } finally {
      apis.forEach(NodeApi::close);
    }
    History history = History.read(directory.resolve("history.jsonl"));
    List<CheckResult> checks =
        RunChecks.check(history, new TreeSet<>(cluster.nodeIds()), workloads, false, true);
    Files.writeString(directory.resolve("anomalies.json"), AnomaliesJson.render(checks));
    return new Run(id, history, checks, directory);
  }

  private static RunSummary summary(Run run, long seed, String profile, CheckResult control) {
    List<CheckResult> checks = control == null ? run.checks() : List.of();
    return new RunSummary(
        new RunSummary.Run(
            run.id(),
            seed,
            profile,
            3,
            length(),
            run.directory().toString(),
            String.format(
                Locale.ROOT,
                "mvn -B -pl chaos-tests -am verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false"
                    + " -Dit.test=InProcessChaosIT -Dfailsafe.failIfNoSpecifiedTests=false  (seed"
                    + " 0x%X)",
                seed),
            List.of(
                "tier: in-process (MiniRaftClusterWithGrpc, real state machine and RocksDB)",
                "ratis: read="
                    + (control == null ? "LINEARIZABLE lease=on(0.9)" : "DEFAULT (unsafe)")
                    + " prevote=on")),
        run.history(),
        checks,
        control);
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Isolations (leader or any node), restarts and leadership transfers, drawn from a seed. */
  private static final class InProcessNemesis {
    private final InProcessCluster cluster;
    private final HistoryRecorder recorder;
    private final SplittableRandom random;
    private final AtomicBoolean stop;

    InProcessNemesis(
        InProcessCluster cluster, HistoryRecorder recorder, long seed, AtomicBoolean stop) {
      this.cluster = cluster;
      this.recorder = recorder;
      this.random = new SplittableRandom(seed * 31 + 7);
      this.stop = stop;
    }

    /** Sleeps up to {@code millis}, less if the run stops meanwhile. */
    private void hold(long millis) {
      long end = System.nanoTime() + millis * 1_000_000;
      while (!stop.get() && System.nanoTime() < end) {
        sleep(100);
      }
    }

    void run() throws Exception {
      List<String> nodes = cluster.nodeIds();
      while (!stop.get()) {
        hold(2_000 + random.nextInt(2_001));
        if (stop.get()) {
          return;
        }
        String random1 = nodes.get(random.nextInt(nodes.size()));
        String target;
        int dice = random.nextInt(4);
        JsonObject value = new JsonObject();
        switch (dice) {
          case 0, 1 -> {
            target = dice == 0 ? cluster.leader().orElse(random1) : random1;
            String f = dice == 0 ? "isolate-leader" : "isolate-node";
            value.addProperty("kind", f);
            recorder.nemesis(EventType.INVOKE, f, target, value);
            cluster.isolate(target);
            recorder.nemesis(EventType.INFO, f, target, value);
            hold(3_000 + random.nextInt(2_001));
            recorder.nemesis(EventType.INVOKE, "heal", null, null);
            cluster.heal();
            recorder.nemesis(EventType.INFO, "heal", null, null);
          }
          case 2 -> {
            target = random1;
            value.addProperty("kind", "restart");
            recorder.nemesis(EventType.INVOKE, "kill", target, value);
            cluster.kill(target);
            recorder.nemesis(EventType.INFO, "kill", target, value);
            hold(1_000 + random.nextInt(1_001));
            recorder.nemesis(EventType.INVOKE, "restart", target, null);
            cluster.restart(target);
            recorder.nemesis(EventType.INFO, "restart", target, null);
          }
          default -> {
            target = random1;
            value.addProperty("kind", "transfer-leadership");
            value.addProperty("to", target);
            recorder.nemesis(EventType.INVOKE, "transfer-leadership", target, value);
            try {
              cluster.transferLeadership(target);
            } catch (Exception e) {
              value.addProperty("error", String.valueOf(e.getMessage()));
            }
            recorder.nemesis(EventType.INFO, "transfer-leadership", target, value);
          }
        }
      }
    }
  }
}
