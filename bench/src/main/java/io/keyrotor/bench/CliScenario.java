package io.keyrotor.bench;

import com.google.common.base.Splitter;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * How fast {@code scripts/keyrotor} answers: the wall time of whole {@code scripts/keyrotor}
 * processes against the cluster under test ({@code key get K} and {@code cluster status}, over
 * mutual TLS as {@code admin}), and the CLI without a call ({@code --version}), as a user gets
 * them: through the resident CLI process, which the warm-up's first command starts (the scenario
 * waits until it serves, in a runtime directory of its own, and stops it at the end); and each in a
 * JVM of its own ({@code KEYROTOR_RESIDENT=off}, rows {@code ...-direct}). Side by side, in
 * interleaved order: a Java no-op ({@code java -version} with the CLI's JVM options, the floor of
 * any JVM command) and {@code etcdctl get} on the side-by-side etcd (a Go CLI, what an operator
 * compares with). p50 and p95 per command in milliseconds; target: {@code key get} p50 under 500
 * ms. Runs only when named ({@code scripts/bench --scenarios cli}).
 */
final class CliScenario {
  static final String NAME = "cli";

  /** The JVM options scripts/keyrotor gives every command (without its archive). */
  static final List<String> CLI_JVM_OPTIONS =
      List.of(
          "-XX:TieredStopAtLevel=1",
          "-XX:+UseSerialGC",
          "-XX:-UsePerfData",
          "-Xshare:auto",
          "-Xlog:disable");

  /** The target for one CLI command's p50, in milliseconds. */
  static final double TARGET_MILLIS = 500;

  private CliScenario() {}

  /** A command line and what it adds to the environment. */
  private record Command(List<String> argv, Map<String, String> environment) {
    static Command of(List<String> argv) {
      return new Command(argv, Map.of());
    }
  }

  static void run(BenchRun run) throws IOException, InterruptedException {
    Path keyrotor = run.clusterScript.resolveSibling("keyrotor");
    String cluster = run.clusterDir.toString();
    String key = run.keyrotor.createKeys("cli", "default", 1, run.progress).get(0);
    // The resident CLI process of this run, in a runtime directory of its own.
    Path runtime = Files.createTempDirectory("keyrotor-bench-cli");
    Map<String, String> resident = Map.of("XDG_RUNTIME_DIR", runtime.toString());
    Map<String, String> direct =
        Map.of("XDG_RUNTIME_DIR", runtime.toString(), "KEYROTOR_RESIDENT", "off");
    List<String> keyGet = List.of(keyrotor.toString(), "--cluster-dir", cluster, "key", "get", key);
    List<String> status =
        List.of(keyrotor.toString(), "--cluster-dir", cluster, "cluster", "status");
    Map<String, Command> commands = new LinkedHashMap<>();
    commands.put("keyrotor-key-get", new Command(keyGet, resident));
    commands.put("keyrotor-cluster-status", new Command(status, resident));
    commands.put(
        "keyrotor-version", new Command(List.of(keyrotor.toString(), "--version"), resident));
    commands.put("keyrotor-key-get-direct", new Command(keyGet, direct));
    commands.put("keyrotor-cluster-status-direct", new Command(status, direct));
    List<String> java = new ArrayList<>();
    java.add(javaBinary());
    java.addAll(CLI_JVM_OPTIONS);
    java.add("-version");
    commands.put("java-noop", Command.of(java));
    try {
      measure(run, commands, keyrotor, resident);
    } finally {
      exec(new Command(List.of(keyrotor.toString(), "resident", "stop"), resident), false);
      try (Stream<Path> files = Files.walk(runtime)) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(file);
        }
      }
    }
  }

  private static void measure(
      BenchRun run, Map<String, Command> commands, Path keyrotor, Map<String, String> resident)
      throws IOException, InterruptedException {
    Path etcdctl = onPath("etcdctl");
    if (run.etcd != null && etcdctl != null) {
      String endpoints = String.join(",", run.etcd.endpoints);
      String etcdKey = "bench-cli-" + run.keyrotor.runId;
      exec(
          Command.of(List.of(etcdctl.toString(), "--endpoints=" + endpoints, "put", etcdKey, "v")),
          true);
      commands.put(
          "etcdctl-get",
          Command.of(List.of(etcdctl.toString(), "--endpoints=" + endpoints, "get", etcdKey)));
    } else {
      run.notes.add("cli: no etcdctl baseline (etcd skipped, or etcdctl not on PATH)");
    }

    // The first CLI command after a build writes the class-data archive (a slow run), and the
    // first through the launcher starts the resident process: warm up, then wait until it serves.
    for (int i = 0; i < 2; i++) {
      for (Command command : commands.values()) {
        exec(command, true);
      }
    }
    Command residentStatus =
        new Command(List.of(keyrotor.toString(), "resident", "status"), resident);
    for (int i = 0; exec(residentStatus, false) < 0; i++) {
      if (i == 600) {
        throw new IllegalStateException("the resident CLI process did not start within 60 s");
      }
      Thread.sleep(100);
    }
    for (Command command : commands.values()) {
      exec(command, true); // the resident process's first call of each kind
    }
    int runs = run.quick ? 10 : 30;
    Map<String, List<Double>> millis = new LinkedHashMap<>();
    commands.keySet().forEach(name -> millis.put(name, new ArrayList<>()));
    List<String> names = new ArrayList<>(commands.keySet());
    for (int i = 0; i < runs; i++) {
      run.progress.status(String.format("CLI commands, pass %d of %d", i + 1, runs));
      for (String name : BenchRun.order(names, i)) {
        millis.get(name).add(exec(commands.get(name), true));
      }
    }
    Map<String, Double> p50s = new LinkedHashMap<>();
    for (Map.Entry<String, List<Double>> entry : millis.entrySet()) {
      double p50 = percentile(entry.getValue(), 50);
      double p95 = percentile(entry.getValue(), 95);
      p50s.put(entry.getKey(), p50);
      Command command = commands.get(entry.getKey());
      String detail =
          runs
              + " runs: "
              + (command.environment().containsKey("KEYROTOR_RESIDENT")
                  ? "KEYROTOR_RESIDENT=off "
                  : "")
              + String.join(" ", command.argv());
      run.observe(NAME, entry.getKey(), "p50_ms", p50, "ms", 0, detail);
      run.observe(NAME, entry.getKey(), "p95_ms", p95, "ms", 0, detail);
    }
    double keyGet = p50s.get("keyrotor-key-get");
    run.observe(
        NAME,
        "keyrotor-key-get",
        "p50_vs_java_noop",
        keyGet / p50s.get("java-noop"),
        "x",
        0,
        "key get p50 over java -version p50 (same JVM options)");
    if (p50s.containsKey("etcdctl-get")) {
      run.observe(
          NAME,
          "keyrotor-key-get",
          "p50_vs_etcdctl_get",
          keyGet / p50s.get("etcdctl-get"),
          "x",
          0,
          "key get p50 over etcdctl get p50");
    }
    run.observe(
        NAME,
        "keyrotor-key-get",
        "p50_vs_direct",
        keyGet / p50s.get("keyrotor-key-get-direct"),
        "x",
        0,
        "key get p50 through the resident process over the same in a JVM of its own");
    run.notes.add(
        String.format(
            "cli: key get p50 %.0f ms, cluster status p50 %.0f ms (resident process; in a JVM of"
                + " their own %.0f ms and %.0f ms): target < %.0f ms %s",
            keyGet,
            p50s.get("keyrotor-cluster-status"),
            p50s.get("keyrotor-key-get-direct"),
            p50s.get("keyrotor-cluster-status-direct"),
            TARGET_MILLIS,
            keyGet < TARGET_MILLIS ? "met" : "MISSED"));
  }

  /**
   * Runs one command to its end; returns its wall time in milliseconds, or -1 when it exited
   * non-zero and {@code mustSucceed} is false.
   */
  private static double exec(Command command, boolean mustSucceed)
      throws IOException, InterruptedException {
    Path output = Files.createTempFile("keyrotor-bench-cli", ".out");
    try {
      ProcessBuilder builder =
          new ProcessBuilder(command.argv())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectOutput(output.toFile())
              .redirectErrorStream(true);
      builder.environment().putAll(command.environment());
      long begin = System.nanoTime();
      Process process = builder.start();
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("no answer within 120 s: " + command.argv());
      }
      long elapsed = System.nanoTime() - begin;
      if (process.exitValue() != 0) {
        if (!mustSucceed) {
          return -1;
        }
        throw new IllegalStateException(
            "exit "
                + process.exitValue()
                + " from "
                + command.argv()
                + ": "
                + Files.readString(output));
      }
      return elapsed / 1e6;
    } finally {
      Files.deleteIfExists(output);
    }
  }

  /** The nearest-rank percentile of {@code values} (1-100). */
  static double percentile(List<Double> values, int percent) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }

  private static String javaBinary() {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    return Files.isExecutable(java) ? java.toString() : "java";
  }

  private static Path onPath(String program) {
    for (String dir :
        Splitter.on(File.pathSeparatorChar).split(System.getenv().getOrDefault("PATH", ""))) {
      Path candidate = Path.of(dir, program);
      if (!dir.isEmpty() && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
