package io.keyrotor.bench.micro;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.keyrotor.bench.ResultFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the JMH benchmarks of this package one at a time (a progress line per benchmark, JMH's own
 * output silenced) and adds their results to a result file under "micro", where the report reads
 * them next to the load generator's.
 */
@Command(
    name = "keyrotor-bench-micro",
    mixinStandardHelpOptions = true,
    description =
        "JMH micro-benchmarks of the server's Decrypt (leader and follower), Decrypt through gRPC"
            + " under the follower policies, and the HSMs.")
public final class MicroMain implements Callable<Integer> {
  /**
   * One JMH invocation.
   *
   * @param benchmark class and method, e.g. {@code KekUnwrapBenchmark.unwrap}
   * @param hsmOrNull the value of the benchmark's {@code hsm} parameter, or null for all values
   * @param threads benchmark threads
   * @param forks forks in a full run (quick runs take one)
   * @param quick whether quick runs include it: the targets' benchmarks do, informative ones not
   */
  record Entry(String benchmark, String hsmOrNull, int threads, int forks, boolean quick) {
    /** A benchmark a target is evaluated on: every run, two forks in a full run. */
    static Entry target(String benchmark, String hsmOrNull) {
      return new Entry(benchmark, hsmOrNull, 1, 2, true);
    }

    /** A part of a target's figure: full runs only, two forks. */
    static Entry part(String benchmark) {
      return new Entry(benchmark, null, 1, 2, false);
    }

    /**
     * A figure recorded for a decision (the follower policy, the mechanism order): full runs only,
     * one fork, so that the full run stays short.
     */
    static Entry recorded(String benchmark, int threads) {
      return new Entry(benchmark, null, threads, 1, false);
    }
  }

  static final List<Entry> BENCHMARKS =
      List.of(
          Entry.target("DecryptBenchmark.rawJdkAesGcm", null),
          Entry.part("DecryptBenchmark.dataPlaneWithoutBarrier"),
          Entry.part("DecryptBenchmark.leaderReadBarrier"),
          Entry.target("DecryptBenchmark.leaderDecrypt", null),
          Entry.target("AuthorizationBenchmark.decryptCheck", null),
          Entry.target("AuthorizationBenchmark.quotaAdmit", null),
          Entry.recorded("DecryptBenchmark.followerReadBarrier", 1),
          Entry.recorded("DecryptBenchmark.followerReadIndexDecrypt", 1),
          Entry.recorded("FollowerReadsBenchmark.decryptOneClient", 1),
          Entry.recorded("FollowerReadsBenchmark.decryptConcurrentClients", 8),
          Entry.target("KekUnwrapBenchmark.unwrap", "software"),
          Entry.target("KekUnwrapBenchmark.unwrap", "softhsm2"),
          Entry.recorded("HsmBenchmark.unwrapByMechanism", 1),
          Entry.recorded("HsmBenchmark.wrapUnwrapRandom", 8));

  @Option(
      names = "--quick",
      description =
          "1 fork, short iterations, only the benchmarks targets are evaluated on (about 30 s).")
  boolean quick;

  @Option(
      names = "--out",
      required = true,
      description = "The result file to add to (created if missing).")
  Path out;

  @Option(names = "--only", description = "Only benchmarks whose name contains this.")
  String only;

  public static void main(String[] args) {
    System.exit(new CommandLine(new MicroMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    // Quick runs skip the benchmarks that are informative, not targets.
    List<Entry> selected =
        BENCHMARKS.stream()
            .filter(b -> only == null || b.benchmark().contains(only))
            .filter(b -> !quick || only != null || b.quick())
            .toList();
    JsonArray micro = new JsonArray();
    int index = 0;
    for (Entry benchmark : selected) {
      index++;
      System.err.printf(
          "\r[micro %d/%d] %-44s%s   ",
          index,
          selected.size(),
          benchmark.benchmark(),
          benchmark.hsmOrNull() == null ? "" : " hsm=" + benchmark.hsmOrNull());
      ChainedOptionsBuilder options =
          new OptionsBuilder()
              .include(
                  getClass().getPackageName()
                      + "."
                      + benchmark.benchmark().replace(".", "\\.")
                      + "$")
              .forks(quick ? 1 : benchmark.forks())
              .warmupIterations(quick ? 1 : 5)
              .warmupTime(TimeValue.seconds(quick ? 1 : 2))
              .measurementIterations(quick ? 2 : 5)
              .measurementTime(TimeValue.seconds(quick ? 1 : 2))
              .threads(benchmark.threads())
              .jvmArgsAppend(forkJvmArgs())
              .shouldFailOnError(true)
              .verbosity(VerboseMode.SILENT);
      if (benchmark.hsmOrNull() != null) {
        options.param("hsm", benchmark.hsmOrNull());
      }
      try {
        Collection<RunResult> results = new Runner(options.build()).run();
        for (RunResult result : results) {
          micro.add(toJson(result));
        }
      } catch (Exception e) {
        System.err.printf("%n[micro] %s failed: %s%n", benchmark.benchmark(), e.getMessage());
      }
    }
    System.err.print("\r" + " ".repeat(100) + "\r");
    JsonObject root = Files.exists(out) ? ResultFile.read(out) : newRoot();
    root.add("micro", micro);
    ResultFile.write(out, root);
    System.out.println("micro-benchmark results added to " + out);
    return 0;
  }

  private JsonObject newRoot() {
    JsonObject root = new JsonObject();
    root.addProperty("date", Instant.now().toString());
    root.addProperty("cores", Runtime.getRuntime().availableProcessors());
    root.addProperty("quick", quick);
    root.addProperty("load_average_start", ResultFile.loadAverage());
    return root;
  }

  private static String[] forkJvmArgs() {
    List<String> args = new ArrayList<>(List.of("-Xmx512m", "-XX:+UseSerialGC"));
    String temp = System.getProperty("PKCS11_TEMP_DIR");
    if (temp != null) {
      args.add("-DPKCS11_TEMP_DIR=" + temp);
    }
    String logback = System.getProperty("logback.configurationFile");
    if (logback != null) {
      args.add("-Dlogback.configurationFile=" + logback);
    }
    return args.toArray(String[]::new);
  }

  static JsonObject toJson(RunResult result) {
    BenchmarkParams params = result.getParams();
    String name = params.getBenchmark();
    name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
    StringBuilder paramText = new StringBuilder();
    for (String key : params.getParamsKeys()) {
      if (paramText.length() > 0) {
        paramText.append(',');
      }
      paramText.append(key).append('=').append(params.getParam(key));
    }
    Result<?> primary = result.getPrimaryResult();
    JsonObject out = new JsonObject();
    out.addProperty("benchmark", name);
    out.addProperty("params", paramText.toString());
    out.addProperty("mode", params.getMode().shortLabel());
    out.addProperty("threads", params.getThreads());
    out.addProperty("score", primary.getScore());
    double error = primary.getScoreError();
    out.addProperty("error", Double.isFinite(error) ? error : null);
    out.addProperty("unit", primary.getScoreUnit());
    return out;
  }
}
