package io.keyrotor.chaos.runner;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.keyrotor.chaos.checker.AnomaliesJson;
import io.keyrotor.chaos.checker.CheckResult;
import io.keyrotor.chaos.checker.RunSummary;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.HistoryRecorder;
import io.keyrotor.chaos.launcher.HostCapabilities;
import io.keyrotor.chaos.launcher.NetnsLauncher;
import io.keyrotor.chaos.launcher.Shell;
import io.keyrotor.chaos.nemesis.ClusterControl;
import io.keyrotor.chaos.nemesis.Nemesis;
import io.keyrotor.chaos.nemesis.NemesisKind;
import io.keyrotor.chaos.workload.GrpcNodeApi;
import io.keyrotor.chaos.workload.NodeApi;
import io.keyrotor.chaos.workload.OpError;
import io.keyrotor.chaos.workload.Workload;
import io.keyrotor.chaos.workload.Workloads;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * One chaos run against real node processes in network namespaces: start the cluster, run the
 * workloads with the nemesis for the time limit, heal everything, wait for convergence, read every
 * key on every node, record each node's final status, check, write the artifacts and print the
 * summary. The cluster is torn down in every case.
 *
 * <pre>
 * target/chaos/&lt;run&gt;/history.jsonl   every operation and nemesis action
 * target/chaos/&lt;run&gt;/run.json        seed, settings, capabilities, node pids, workloads
 * target/chaos/&lt;run&gt;/nemesis.log     the nemesis's actions, one line each
 * target/chaos/&lt;run&gt;/nodes/nI.log    each node's output
 * target/chaos/&lt;run&gt;/anomalies.json  every check's verdict and anomalies
 * target/chaos/&lt;run&gt;/summary.txt     what was printed
 * </pre>
 */
public final class ChaosRunner {
  /**
   * A run's settings.
   *
   * @param profile a name for the summary ("netns-smoke/A", "chaos")
   * @param nodes 3 or 5
   * @param timeLimit how long the workloads run
   * @param nemeses the faults to draw from (empty: none)
   * @param seed the generator seed
   * @param workloads the workloads
   * @param opsPerSecond total operation rate
   * @param opsPerKey operations per key before moving to a fresh key
   * @param outputRoot where run directories go (target/chaos)
   * @param serverJar the shaded server jar
   * @param leaderLease the nodes' leader lease
   * @param timing nemesis intervals
   * @param rerunCommand the command that re-runs this seed (printed on failure)
   * @param nodeSettings extra {@code KEY=VALUE} lines for every node's configuration
   * @param nodeJavaOptions extra JVM options for every node (e.g. a logback configuration)
   */
  public record Options(
      String profile,
      int nodes,
      Duration timeLimit,
      Set<NemesisKind> nemeses,
      long seed,
      Set<Workload> workloads,
      double opsPerSecond,
      int opsPerKey,
      Path outputRoot,
      Path serverJar,
      boolean leaderLease,
      Nemesis.Timing timing,
      String rerunCommand,
      List<String> nodeSettings,
      List<String> nodeJavaOptions) {
    public Options {
      nodeSettings = List.copyOf(nodeSettings);
      nodeJavaOptions = List.copyOf(nodeJavaOptions);
    }
  }

  /** What a run produced. */
  public record Outcome(
      String runId,
      Path directory,
      RunSummary summary,
      List<CheckResult> checks,
      Map<String, Integer> faults,
      Map<Workload, String> skipped,
      long operations,
      Duration elapsed) {
    public boolean passed() {
      return summary.passed();
    }
  }

  private ChaosRunner() {}

  /** Runs once; prints the summary to {@code out}. */
  public static Outcome run(Options options, PrintStream out) throws Exception {
    long started = System.nanoTime();
    HostCapabilities capabilities = HostCapabilities.probe();
    if (!capabilities.namespacesUsable()) {
      throw new IllegalStateException(
          "the namespace tier cannot run here; missing: " + capabilities.missing());
    }
    String tag = String.format(Locale.ROOT, "%04x", (int) (options.seed() & 0xffff));
    String runId =
        LocalDateTime.now(ZoneId.systemDefault())
                .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
            + "-"
            + tag;
    Path directory = options.outputRoot().resolve(runId).toAbsolutePath();
    Files.createDirectories(directory);
    NetnsLauncher.Settings settings =
        new NetnsLauncher.Settings(
            options.nodes(),
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            options.leaderLease(),
            concat(
                NetnsLauncher.Settings.defaults(options.nodes()).javaOptions(),
                options.nodeJavaOptions()),
            options.nodeSettings());
    List<GrpcNodeApi> apis = new ArrayList<>();
    try (NetnsLauncher launcher =
            new NetnsLauncher(
                directory,
                options.serverJar(),
                settings,
                "r" + tag,
                options.nemeses().stream().anyMatch(NemesisKind::membership) ? 1 : 0);
        PrintWriter nemesisLog =
            new PrintWriter(
                Files.newBufferedWriter(
                    directory.resolve("nemesis.log"), StandardCharsets.UTF_8))) {
      long startNanos = System.nanoTime();
      launcher.startAll();
      Map<String, ManagedChannel> channels = new LinkedHashMap<>();
      // Mutual TLS as the cluster's administrator: workloads, status and the chaos hook.
      ChannelCredentials credentials = launcher.adminCredentials();
      for (String id : launcher.nodeIds()) {
        GrpcNodeApi api =
            new GrpcNodeApi(
                id,
                launcher.apiAddress(id),
                credentials,
                Duration.ofSeconds(8),
                Duration.ofSeconds(5));
        apis.add(api);
        channels.put(id, api.channel());
      }
      ClusterControl control = new ClusterControl(channels);
      // A node's start (JVM, HSM key file, Raft) takes seconds on a quiet machine and minutes on a
      // loaded one: the bound only catches a node that never comes up.
      awaitAllAnswering(apis, Duration.ofMinutes(8));
      Duration nodesStarted = Duration.ofNanos(System.nanoTime() - startNanos);

      HistoryRecorder recorder = HistoryRecorder.toFile(directory.resolve("history.jsonl"));
      Workloads workloads =
          new Workloads(
              new Workloads.Config(
                  "r" + tag,
                  2 * options.nodes(),
                  options.opsPerSecond(),
                  options.opsPerKey(),
                  options.workloads(),
                  5_000,
                  options.seed()),
              new ArrayList<NodeApi>(apis),
              recorder);
      workloads.prepare();
      Nemesis nemesis =
          new Nemesis(
              launcher,
              control,
              recorder,
              options.nemeses(),
              options.seed() * 31 + 7,
              options.timing(),
              nemesisLog,
              capabilities.tbf());
      nemesis.nodesStartedWithin(nodesStarted);
      Thread nemesisThread = new Thread(nemesis, "chaos-nemesis");
      nemesisThread.setDaemon(true);
      nemesisThread.start();
      workloads.run(options.timeLimit());
      nemesis.stop();
      nemesisThread.join(60_000);
      nemesis.healEverything();
      Finished finished =
          finishAfterHeal(
              workloads,
              apis,
              recorder,
              directory.resolve("history.jsonl"),
              launcher.nodeIds(),
              Duration.ofSeconds(60));
      boolean converged = finished.converged();
      writeRunJson(
          directory, options, runId, capabilities, launcher, workloads, nemesis, converged);
      History history = finished.history();
      List<CheckResult> checks = finished.checks();
      List<String> environment = new ArrayList<>();
      environment.add(capabilities.describe());
      environment.add(
          "ratis: read=LINEARIZABLE lease="
              + (options.leaderLease() ? "on(0.9)" : "off")
              + " prevote=on rpc.timeout=1s..2s");
      environment.add(
          "workloads: "
              + workloads.active()
              + (workloads.skipped().isEmpty() ? "" : " | not checked: " + workloads.skipped()));
      environment.add(
          "nemesis: drawn from "
              + nemesis.kinds().stream().map(NemesisKind::id).toList()
              + launcher.spares().map(s -> " | spare nodes " + s.spareIds()).orElse("")
              + " | nodes answered "
              + nodesStarted.toSeconds()
              + " s after their start");
      RunSummary summary =
          new RunSummary(
              new RunSummary.Run(
                  runId,
                  options.seed(),
                  options.profile(),
                  options.nodes(),
                  options.timeLimit(),
                  directory.toString(),
                  options.rerunCommand(),
                  environment),
              history,
              checks,
              null);
      String rendered = summary.render();
      Files.writeString(directory.resolve("anomalies.json"), AnomaliesJson.render(checks));
      Files.writeString(directory.resolve("summary.txt"), rendered);
      out.print(rendered);
      out.flush();
      return new Outcome(
          runId,
          directory,
          summary,
          checks,
          nemesis.counts(),
          workloads.skipped(),
          history.operations().size(),
          Duration.ofNanos(System.nanoTime() - started));
    } finally {
      apis.forEach(GrpcNodeApi::close);
    }
  }

  private static void awaitAllAnswering(List<GrpcNodeApi> apis, Duration patience)
      throws IOException {
    long deadline = System.nanoTime() + patience.toNanos();
    Set<String> waiting = new HashSet<>();
    while (System.nanoTime() < deadline) {
      waiting.clear();
      boolean leader = false;
      for (GrpcNodeApi api : apis) {
        try {
          NodeApi.NodeState state = api.status();
          leader |= !state.leaderIdOrEmpty().isEmpty();
        } catch (OpError e) {
          waiting.add(api.nodeId());
        }
      }
      if (waiting.isEmpty() && leader) {
        return;
      }
      sleep(500);
    }
    throw new IOException("nodes did not start within " + patience + ": " + waiting);
  }

  /**
   * What a run's end found: whether the nodes converged within the patience, the history and the
   * checks of the run's workloads.
   */
  public record Finished(boolean converged, History history, List<CheckResult> checks) {}

  /**
   * A run's end, after the final heal (every fault removed, every node running): stops the
   * scheduled rotations, waits for the nodes to converge, makes the final reads and status reads,
   * closes the history at {@code historyFile} and checks it.
   */
  public static Finished finishAfterHeal(
      Workloads workloads,
      List<? extends NodeApi> apis,
      HistoryRecorder recorder,
      Path historyFile,
      List<String> nodeIds,
      Duration patience)
      throws IOException {
    workloads.stopScheduledRotations();
    boolean converged = awaitConvergence(apis, patience);
    workloads.finalReads();
    awaitConvergence(apis, Duration.ofSeconds(30));
    workloads.finalStatus(Duration.ofSeconds(30));
    recorder.close();
    History history = History.read(historyFile);
    List<CheckResult> checks =
        RunChecks.check(
            history,
            new TreeSet<>(nodeIds),
            workloads.active(),
            workloads.scheduledRotationSeen(),
            true);
    return new Finished(converged, history, checks);
  }

  /** Waits until every node answers with one applied index and digest; false on timeout. */
  public static boolean awaitConvergence(List<? extends NodeApi> apis, Duration patience) {
    long deadline = System.nanoTime() + patience.toNanos();
    while (System.nanoTime() < deadline) {
      Set<String> states = new HashSet<>();
      boolean all = true;
      for (NodeApi api : apis) {
        try {
          NodeApi.NodeState s = api.status();
          states.add(s.appliedIndex() + "/" + s.digest());
        } catch (OpError e) {
          all = false;
        }
      }
      if (all && states.size() == 1) {
        return true;
      }
      sleep(500);
    }
    return false;
  }

  /** A JSON object with one array per entry of {@code lists}, named by {@code name}. */
  private static <K, V> JsonObject arrays(
      Map<K, List<V>> lists, Function<K, String> name, Function<V, JsonElement> element) {
    JsonObject out = new JsonObject();
    lists.forEach(
        (key, list) -> {
          JsonArray array = new JsonArray();
          list.forEach(v -> array.add(element.apply(v)));
          out.add(name.apply(key), array);
        });
    return out;
  }

  private static void writeRunJson(
      Path directory,
      Options options,
      String runId,
      HostCapabilities capabilities,
      NetnsLauncher launcher,
      Workloads workloads,
      Nemesis nemesis,
      boolean converged)
      throws IOException {
    JsonObject run = new JsonObject();
    run.addProperty("runId", runId);
    run.addProperty("seed", String.format(Locale.ROOT, "0x%X", options.seed()));
    run.addProperty("profile", options.profile());
    run.addProperty("nodes", options.nodes());
    run.addProperty("timeLimitSeconds", options.timeLimit().toSeconds());
    run.addProperty("gitSha", Shell.run("git", "rev-parse", "HEAD").stdout().strip());
    run.addProperty("rerun", options.rerunCommand());
    JsonObject ratis = new JsonObject();
    ratis.addProperty("raft.server.read.option", "LINEARIZABLE");
    ratis.addProperty("raft.server.read.leader.lease.enabled", options.leaderLease());
    ratis.addProperty("raft.server.read.leader.lease.timeout.ratio", 0.9);
    ratis.addProperty("raft.server.leaderelection.pre-vote", true);
    ratis.addProperty("raft.server.rpc.timeout.min", "1000ms");
    ratis.addProperty("raft.server.rpc.timeout.max", "2000ms");
    run.add("ratis", ratis);
    JsonObject load = new JsonObject();
    load.addProperty("opsPerSecond", options.opsPerSecond());
    load.addProperty("opsPerKey", options.opsPerKey());
    load.addProperty("workers", 2 * options.nodes());
    run.add("load", load);
    run.add("capabilities", capabilities.toJson());
    run.add("nodePids", arrays(launcher.pidHistory(), id -> id, JsonPrimitive::new));
    JsonArray active = new JsonArray();
    workloads.active().forEach(w -> active.add(w.name()));
    run.add("workloads", active);
    JsonObject skipped = new JsonObject();
    workloads.skipped().forEach((w, why) -> skipped.addProperty(w.name(), why));
    run.add("workloadsNotChecked", skipped);
    run.add("keys", arrays(workloads.keys(), Workload::name, JsonPrimitive::new));
    JsonArray kinds = new JsonArray();
    nemesis.kinds().forEach(k -> kinds.add(k.id()));
    run.add("nemesisKinds", kinds);
    JsonObject counts = new JsonObject();
    nemesis.counts().forEach(counts::addProperty);
    run.add("nemesisCounts", counts);
    run.addProperty("convergedAfterHeal", converged);
    Files.writeString(
        directory.resolve("run.json"),
        new GsonBuilder().setPrettyPrinting().create().toJson(run) + "\n");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
