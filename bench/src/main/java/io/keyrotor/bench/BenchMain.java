package io.keyrotor.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The load generator behind {@code scripts/bench}: drives keyrotor, a bare gRPC echo server and
 * etcd side by side, in alternating blocks, and reports throughput, latency percentiles and the
 * ratios the targets are stated in.
 */
@Command(
    name = "keyrotor-bench",
    mixinStandardHelpOptions = true,
    description = "Measure keyrotor against its baselines in one run.")
public final class BenchMain implements Callable<Integer> {
  @Option(
      names = "--servers",
      required = true,
      split = ",",
      description = "keyrotor API addresses.")
  List<String> servers;

  @Option(names = "--echo", required = true, description = "The echo baseline's address.")
  String echo;

  @Option(
      names = "--etcd",
      split = ",",
      description = "etcd client URLs as host:port (none: skip etcd).")
  List<String> etcd = List.of();

  @Option(names = "--quick", description = "A 1-2 minute pass over every scenario.")
  boolean quick;

  @Option(names = "--out", required = true, description = "Where to write the JSON result.")
  Path out;

  @Option(
      names = "--settings",
      description = "A file describing the settings the cluster ran with.")
  Path settings;

  @Option(names = "--no-progress", description = "No progress line.")
  boolean noProgress;

  private final List<Measurement> results = new ArrayList<>();
  private final Map<String, Double> ratios = new LinkedHashMap<>();

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Duration warmup = Duration.ofSeconds(quick ? 2 : 5);
    Duration measure = Duration.ofSeconds(quick ? 5 : 20);
    int rounds = quick ? 1 : 3;
    ProgressLine progress = new ProgressLine(System.err, !noProgress);
    LoadRunner runner = new LoadRunner(warmup, measure, progress);
    System.out.printf(
        "keyrotor bench: %d cores, %s run (warm-up %ds, %ds per measurement, %d A/B round%s)%n",
        Runtime.getRuntime().availableProcessors(),
        quick ? "quick" : "full",
        warmup.toSeconds(),
        measure.toSeconds(),
        rounds,
        rounds == 1 ? "" : "s");

    try (Targets.Keyrotor keyrotor = new Targets.Keyrotor(servers);
        Targets.Echo echoTarget = new Targets.Echo(echo)) {
      Targets.Etcd etcdTarget = etcd.isEmpty() ? null : new Targets.Etcd(etcd);
      System.out.println(
          "keyrotor leader "
              + keyrotor.leaderId
              + " at "
              + keyrotor.leaderAddress
              + (etcdTarget == null
                  ? "; etcd skipped"
                  : "; etcd leader at " + etcdTarget.leaderAddress));
      List<String> readKeys = keyrotor.createReadKeys(100);
      int valueSize = keyrotor.getKeyResponseSize(readKeys.get(0));
      int writeSize = keyrotor.createKeyRequestSize();
      List<ByteString> etcdKeys =
          etcdTarget == null ? List.of() : etcdTarget.putReadKeys(100, valueSize);

      // Linearizable metadata reads at 16 in flight (the stated target), and the curve in full
      // runs.
      List<Integer> readLoads = quick ? List.of(16) : List.of(1, 16, 64, 256);
      for (int load : readLoads) {
        for (int round = 0; round < rounds; round++) {
          results.add(runner.closedLoop("echo", "echo", load, echoTarget.echo(valueSize)));
          results.add(runner.closedLoop("GetKey", "keyrotor", load, keyrotor.getKey(readKeys)));
          if (etcdTarget != null) {
            results.add(
                runner.closedLoop(
                    "get-linearizable", "etcd", load, etcdTarget.get(etcdKeys, false)));
            results.add(
                runner.closedLoop(
                    "get-serializable", "etcd", load, etcdTarget.get(etcdKeys, true)));
          }
        }
      }
      // Durable writes at 64 in flight and a single client.
      for (int load : List.of(64, 1)) {
        for (int round = 0; round < rounds; round++) {
          results.add(
              runner.closedLoop(
                  "CreateKey", "keyrotor", load, keyrotor.createKey("w" + load + "r" + round)));
          if (etcdTarget != null) {
            results.add(
                runner.closedLoop(
                    "put", "etcd", load, etcdTarget.put("w" + load + "r" + round, writeSize)));
          }
        }
      }
      progress.clear();
      if (etcdTarget != null) {
        etcdTarget.close();
      }
    }
    computeRatios();
    printTable();
    writeJson();
    return 0;
  }

  private Measurement median(String scenario, String target, long load) {
    List<Measurement> matching =
        results.stream()
            .filter(
                m -> m.scenario().equals(scenario) && m.target().equals(target) && m.load() == load)
            .sorted(Comparator.comparingDouble(Measurement::throughput))
            .toList();
    return matching.isEmpty() ? null : matching.get(matching.size() / 2);
  }

  private void computeRatios() {
    Measurement getKey = median("GetKey", "keyrotor", 16);
    Measurement echo16 = median("echo", "echo", 16);
    Measurement etcdLinear = median("get-linearizable", "etcd", 16);
    Measurement etcdSerial = median("get-serializable", "etcd", 16);
    Measurement write64 = median("CreateKey", "keyrotor", 64);
    Measurement put64 = median("put", "etcd", 64);
    Measurement write1 = median("CreateKey", "keyrotor", 1);
    Measurement put1 = median("put", "etcd", 1);
    ratio("GetKey_vs_echo_ops@16", getKey, echo16, false);
    ratio("GetKey_vs_etcd_linearizable_get_ops@16", getKey, etcdLinear, false);
    if (getKey != null && etcdSerial != null) {
      ratios.put(
          "GetKey_p99_vs_etcd_serializable_p99@16",
          round(getKey.percentileMicros(99) / etcdSerial.percentileMicros(99)));
    }
    ratio("CreateKey_vs_etcd_put_ops@64", write64, put64, false);
    if (write1 != null && put1 != null) {
      ratios.put(
          "CreateKey_vs_etcd_put_p50_latency@1",
          round(write1.percentileMicros(50) / put1.percentileMicros(50)));
    }
  }

  private void ratio(String name, Measurement a, Measurement b, boolean latency) {
    if (a != null && b != null && b.throughput() > 0) {
      ratios.put(name, round(a.throughput() / b.throughput()));
    }
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private void printTable() {
    System.out.printf(
        "%n%-18s %-9s %6s %6s %12s %10s %10s %10s %8s%n",
        "scenario", "target", "mode", "load", "ops/s", "p50 us", "p99 us", "p99.9 us", "errors");
    for (Measurement m : results) {
      System.out.printf(
          "%-18s %-9s %6s %6d %,12.0f %,10.0f %,10.0f %,10.0f %8d%n",
          m.scenario(),
          m.target(),
          m.mode(),
          m.load(),
          m.throughput(),
          m.percentileMicros(50),
          m.percentileMicros(99),
          m.percentileMicros(99.9),
          m.errorCount());
    }
    System.out.println();
    ratios.forEach((k, v) -> System.out.printf("%-46s %6.2f%n", k, v));
  }

  private void writeJson() throws IOException {
    JsonObject root = new JsonObject();
    root.addProperty("date", Instant.now().toString());
    root.addProperty("cores", Runtime.getRuntime().availableProcessors());
    root.addProperty("quick", quick);
    if (settings != null && Files.exists(settings)) {
      root.addProperty("settings", Files.readString(settings, StandardCharsets.UTF_8));
    }
    JsonArray measurements = new JsonArray();
    results.forEach(m -> measurements.add(m.toJson()));
    root.add("measurements", measurements);
    JsonObject ratioJson = new JsonObject();
    ratios.forEach(ratioJson::addProperty);
    root.add("ratios", ratioJson);
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(
        out, new GsonBuilder().setPrettyPrinting().create().toJson(root), StandardCharsets.UTF_8);
    System.out.println("results written to " + out);
  }
}
