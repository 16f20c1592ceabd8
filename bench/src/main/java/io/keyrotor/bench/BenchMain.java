package io.keyrotor.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The load generator behind {@code scripts/bench}: drives keyrotor, a bare gRPC echo server and
 * etcd side by side, in alternating blocks, writes a JSON result file ({@code run}), and prints the
 * table, the ratios and where each target stands ({@code report}, after the JMH pass has added its
 * results to the same file).
 */
@Command(
    name = "keyrotor-bench",
    mixinStandardHelpOptions = true,
    subcommands = {BenchMain.RunCommand.class, BenchMain.ReportCommand.class},
    description = "Measure keyrotor against its baselines in one run.")
public final class BenchMain implements Callable<Integer> {
  /**
   * Scenario groups in the order they run: the SoftHSM2 comparison first, while both of its
   * clusters have had the same warm-up; the leader kill last, as it disturbs the cluster.
   */
  static final List<String> SCENARIOS =
      List.of("hsm", "read", "write", "dataplane", "mixed", "rewrap", "incident", "kill");

  /**
   * Every scenario {@code --scenarios} accepts, in the order they run: the default ones, then the
   * audit on/off scenario (it needs a fourth cluster), the multi-region simulation ({@link
   * RegionScenario}, which needs the clusters in chaos mode), the quota on/off comparison ({@link
   * QuotaScenario}), the CLI's start-up ({@link CliScenario}), and last the keyspace scenario (it
   * loads up to a million keys and wipes a node); these only run when named.
   */
  static final List<String> KNOWN_SCENARIOS =
      java.util.stream.Stream.concat(
              SCENARIOS.stream(),
              java.util.stream.Stream.of(
                  "audit", RegionScenario.NAME, QuotaScenario.NAME, CliScenario.NAME, "keyspace"))
          .toList();

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchMain()).execute(args));
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.err);
    return 2;
  }

  @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the load scenarios.")
  static final class RunCommand implements Callable<Integer> {
    @Option(
        names = "--servers",
        required = true,
        split = ",",
        description = "keyrotor API addresses.")
    List<String> servers;

    @Option(
        names = "--servers-readindex",
        split = ",",
        description = "A second cluster with raft.leader-lease=false (none: skip that arm).")
    List<String> serversReadIndex = List.of();

    @Option(
        names = "--servers-softhsm2",
        split = ",",
        description = "A third cluster on SoftHSM2 tokens (none: skip that arm).")
    List<String> serversSoftHsm = List.of();

    @Option(
        names = "--servers-audit-off",
        split = ",",
        description =
            "A cluster with audit.data.enabled=false (the audit scenario; none: not run).")
    List<String> serversAuditOff = List.of();

    @Option(
        names = "--cluster-dir-audit-off",
        description = "The audit-off cluster's directory (its DIR/tls).")
    Path clusterDirAuditOff;

    @Option(names = "--echo", required = true, description = "The echo baseline's address.")
    String echo;

    @Option(
        names = "--etcd",
        split = ",",
        description = "etcd client URLs as host:port (none: skip etcd).")
    List<String> etcd = List.of();

    @Option(
        names = "--cluster-dir",
        required = true,
        description =
            "The keyrotor cluster's directory: DIR/tls/admin.pem, admin-key.pem and ca.pem for"
                + " mutual TLS; the leader kill restarts its nodes.")
    Path clusterDir;

    @Option(
        names = "--cluster-dir-readindex",
        description = "The lease-off cluster's directory (its DIR/tls).")
    Path clusterDirReadIndex;

    @Option(
        names = "--cluster-dir-softhsm2",
        description = "The SoftHSM2 cluster's directory (its DIR/tls).")
    Path clusterDirSoftHsm;

    @Option(
        names = "--echo-tls-dir",
        description =
            "Where the echo server wrote its CA and caller certificate (admin.pem, ca.pem): the"
                + " echo is called over mutual TLS.")
    Path echoTlsDir;

    @Option(
        names = "--echo-plaintext",
        description =
            "The echo server runs in plaintext (the old baseline): recorded, no target is"
                + " evaluated against it.")
    boolean echoPlaintext;

    @Option(names = "--cluster-script", description = "scripts/cluster (restarts a killed node).")
    Path clusterScript;

    @Option(
        names = "--etcd-dir",
        description = "Where etcd members' pid and start files are (leader kill).")
    Path etcdDir;

    @Option(names = "--quick", description = "A 1-2 minute pass over every scenario.")
    boolean quick;

    @Option(names = "--rounds", description = "A/B rounds (default: 1 quick, 3 full).")
    Integer rounds;

    @Option(
        names = "--seconds",
        description = "Seconds per measured block (default: 1.5 quick, 8 full).")
    Double seconds;

    @Option(
        names = "--warmup",
        description = "Warm-up seconds per block (default: 0.5 quick, 2 full).")
    Double warmup;

    @Option(
        names = "--scenarios",
        split = ",",
        description =
            "Only these scenario groups (read, write, dataplane, mixed, rewrap, incident, kill;"
                + " keyspace, audit, region, quota and cli run only when named).")
    List<String> scenarios = SCENARIOS;

    @Option(
        names = "--arms",
        split = ",",
        description = "Only A/B arms whose target contains one of these (development runs).")
    List<String> arms = List.of();

    @Option(
        names = "--rewrap-count",
        description = "Data keys to rewrap (default: 20,000 quick, 1,000,000 full).")
    Integer rewrapCount;

    @Option(
        names = "--incident-keys",
        description = "Keys in the rotated zone (default: 1,000 quick, 10,000 full).")
    Integer incidentKeys;

    @Option(
        names = "--keys",
        description = "Keys the keyspace scenario loads (default 1,000,000; more than 1,000).")
    Integer keys;

    @Option(names = "--out", required = true, description = "Where to write the JSON result.")
    Path out;

    @Option(
        names = "--settings",
        description = "A file describing the settings the clusters ran with.")
    Path settings;

    @Option(names = "--no-progress", description = "No progress line.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
      if ((echoTlsDir == null) == !echoPlaintext) {
        throw new CommandLine.ParameterException(
            new CommandLine(this), "give exactly one of --echo-tls-dir and --echo-plaintext");
      }
      requireDirectory(serversReadIndex, clusterDirReadIndex, "--cluster-dir-readindex");
      requireDirectory(serversSoftHsm, clusterDirSoftHsm, "--cluster-dir-softhsm2");
      requireDirectory(serversAuditOff, clusterDirAuditOff, "--cluster-dir-audit-off");
      for (String s : scenarios) {
        if (!KNOWN_SCENARIOS.contains(s)) {
          throw new CommandLine.ParameterException(
              new CommandLine(this), "unknown scenario " + s + " (known: " + KNOWN_SCENARIOS + ")");
        }
      }
      if (keys != null && keys <= KeyspaceScenario.SMALL) {
        throw new CommandLine.ParameterException(
            new CommandLine(this),
            "--keys must be more than " + KeyspaceScenario.SMALL + " (the small keyspace)");
      }
      Duration warm =
          Duration.ofMillis((long) (1000 * (warmup != null ? warmup : quick ? 0.5 : 2)));
      Duration measure =
          Duration.ofMillis((long) (1000 * (seconds != null ? seconds : quick ? 1.5 : 8)));
      int roundCount = rounds != null ? rounds : quick ? 1 : 3;
      ProgressLine progress = new ProgressLine(System.err, !noProgress);
      LoadRunner runner = new LoadRunner(warm, measure, progress);
      String loadStart = ResultFile.loadAverage();
      Instant started = Instant.now();
      System.out.printf(
          "keyrotor bench: %d cores, load average %s, %s run (warm-up %.1fs, %.1fs per block, %d A/B"
              + " round%s)%n",
          Runtime.getRuntime().availableProcessors(),
          loadStart,
          quick ? "quick" : "full",
          warm.toMillis() / 1000.0,
          measure.toMillis() / 1000.0,
          roundCount,
          roundCount == 1 ? "" : "s");
      List<String> failures = new ArrayList<>();
      BenchRun run = null;
      try (KeyrotorTarget keyrotor = new KeyrotorTarget("keyrotor", servers, clusterDir);
          KeyrotorTarget noLease =
              serversReadIndex.isEmpty()
                  ? null
                  : new KeyrotorTarget(
                      "keyrotor-readindex", serversReadIndex, clusterDirReadIndex);
          KeyrotorTarget softHsm =
              serversSoftHsm.isEmpty()
                  ? null
                  : new KeyrotorTarget("keyrotor-softhsm2", serversSoftHsm, clusterDirSoftHsm);
          KeyrotorTarget auditOff =
              serversAuditOff.isEmpty()
                  ? null
                  : new KeyrotorTarget("keyrotor-audit-off", serversAuditOff, clusterDirAuditOff);
          EchoTarget echoTarget = new EchoTarget(echo, echoTlsDir);
          EtcdTarget etcdTarget = etcd.isEmpty() ? null : new EtcdTarget(etcd)) {
        System.out.printf(
            "keyrotor leader %s at %s%s%s; %s%n",
            keyrotor.leaderId(),
            keyrotor.leaderAddress(),
            noLease == null ? "" : "; lease-off cluster leader at " + noLease.leaderAddress(),
            softHsm == null ? "" : "; SoftHSM2 cluster leader at " + softHsm.leaderAddress(),
            etcdTarget == null ? "etcd skipped" : "etcd leader at " + etcdTarget.leaderAddress());
        run =
            new BenchRun(
                quick,
                roundCount,
                runner,
                progress,
                keyrotor,
                noLease,
                softHsm,
                echoTarget,
                etcdTarget,
                clusterDir,
                clusterScript,
                etcdDir,
                rewrapCount != null ? rewrapCount : quick ? 20_000 : 1_000_000,
                incidentKeys != null ? incidentKeys : quick ? 1_000 : 10_000);
        run.armFilter = arms;
        run.keyrotorAuditOff = auditOff;
        run.notes.add(
            echoPlaintext
                ? "echo baseline in PLAINTEXT (--echo-plaintext): keyrotor runs mutual TLS, so the"
                    + " data-plane targets (against the mutual-TLS echo) are not evaluated"
                : "keyrotor and the echo baseline over mutual TLS 1.3 (client certificate"
                    + " required), etcd in plaintext");
        DataPlaneScenario.Material material = null;
        progress.phase("[0/" + scenarios.size() + "] warm-up");
        long warmBegin = System.nanoTime();
        WarmUp.run(run);
        progress.clear();
        System.out.printf(
            "  %-10s done in %5.1f s%n", "warm-up", (System.nanoTime() - warmBegin) / 1e9);
        int index = 0;
        for (String scenario : KNOWN_SCENARIOS) {
          if (!scenarios.contains(scenario)) {
            continue;
          }
          index++;
          progress.phase(String.format("[%d/%d] %s", index, scenarios.size(), scenario));
          long begin = System.nanoTime();
          run.notes.add(
              String.format(
                  "%s started with about %,d keys created by this run on the cluster under test",
                  scenario, keyrotor.createdKeys.get()));
          try {
            run.refreshLeaders();
            if (material == null && (scenario.equals("hsm") || scenario.equals("mixed"))) {
              material = DataPlaneScenario.material(keyrotor, run, 1000);
            }
            switch (scenario) {
              case "read" -> ReadScenario.run(run);
              case "write" -> WriteScenario.run(run);
              case "dataplane" -> material = DataPlaneScenario.run(run);
              case "hsm" -> HsmScenario.run(run, material);
              case "mixed" -> MixedScenario.run(run, material);
              case "rewrap" -> RewrapScenario.run(run);
              case "incident" -> IncidentRotationScenario.run(run);
              case "kill" -> LeaderKillScenario.run(run);
              case "audit" -> AuditScenario.run(run);
              case RegionScenario.NAME -> RegionScenario.run(run);
              case QuotaScenario.NAME -> QuotaScenario.run(run);
              case CliScenario.NAME -> CliScenario.run(run);
              case "keyspace" ->
                  KeyspaceScenario.run(run, keys != null ? keys : KeyspaceScenario.DEFAULT_KEYS);
              default -> throw new IllegalStateException(scenario);
            }
          } catch (Exception e) {
            failures.add(scenario + ": " + e);
            progress.clear();
            System.out.println("scenario " + scenario + " failed: " + e);
          }
          progress.clear();
          System.out.printf(
              "  %-10s done in %5.1f s%n", scenario, (System.nanoTime() - begin) / 1e9);
        }
      } finally {
        progress.clear();
        if (run != null) {
          write(run, started, loadStart, failures);
        }
      }
      return 0;
    }

    private void requireDirectory(List<String> servers, Path directory, String option) {
      if (!servers.isEmpty() && directory == null) {
        throw new CommandLine.ParameterException(
            new CommandLine(this), option + " is needed with that cluster's servers");
      }
    }

    private void write(BenchRun run, Instant started, String loadStart, List<String> failures)
        throws IOException {
      JsonObject root = new JsonObject();
      root.addProperty("date", started.toString());
      root.addProperty("cores", Runtime.getRuntime().availableProcessors());
      root.addProperty("quick", quick);
      boolean custom =
          rounds != null
              || seconds != null
              || warmup != null
              || rewrapCount != null
              || incidentKeys != null
              || keys != null
              || !arms.isEmpty()
              || !scenarios.equals(SCENARIOS);
      root.addProperty(
          "run",
          (quick ? "quick" : "full")
              + (custom
                  ? String.format(
                      " (custom: %d round%s of %.1f s blocks, rewrap %,d, incident %,d keys)",
                      run.rounds,
                      run.rounds == 1 ? "" : "s",
                      run.runner.measureDuration().toMillis() / 1000.0,
                      run.rewrapCount,
                      run.incidentKeys)
                  : ""));
      root.addProperty("load_average_start", loadStart);
      root.addProperty("load_average_end", ResultFile.loadAverage());
      root.addProperty("seconds", Duration.between(started, Instant.now()).toSeconds());
      if (settings != null && Files.exists(settings)) {
        root.addProperty("settings", Files.readString(settings, StandardCharsets.UTF_8));
      }
      JsonArray notes = new JsonArray();
      run.notes.forEach(notes::add);
      failures.forEach(f -> notes.add("FAILED " + f));
      root.add("notes", notes);
      JsonArray measurements = new JsonArray();
      synchronized (run.measurements) {
        run.measurements.forEach(m -> measurements.add(m.toJson()));
      }
      root.add("measurements", measurements);
      JsonArray observations = new JsonArray();
      synchronized (run.observations) {
        run.observations.forEach(o -> observations.add(o.toJson()));
      }
      root.add("observations", observations);
      ResultFile.write(out, root);
      System.out.println("results written to " + out);
    }
  }

  @Command(name = "report", mixinStandardHelpOptions = true, description = "Print a result file.")
  static final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "The JSON result file.")
    Path file;

    @Override
    public Integer call() throws Exception {
      Report.print(file, System.out);
      return 0;
    }
  }
}
