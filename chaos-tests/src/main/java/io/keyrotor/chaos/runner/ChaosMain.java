package io.keyrotor.chaos.runner;

import static java.util.stream.Collectors.joining;

import io.keyrotor.chaos.checker.CheckResult;
import io.keyrotor.chaos.launcher.NetnsLauncher;
import io.keyrotor.chaos.nemesis.Nemesis;
import io.keyrotor.chaos.nemesis.NemesisKind;
import io.keyrotor.chaos.workload.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code scripts/chaos}: runs the namespace tier N times and prints a line per run and a table at
 * the end; exits 1 if any run did not pass (FAIL or INCONCLUSIVE), 2 on a usage error.
 *
 * <pre>
 * --nodes N          3 or 5 (default 5)
 * --time-limit DUR   workload time per run: 60s, 5m, 1h (default 5m)
 * --nemesis LIST     families (partition,loss,slow,kill,pause,clock,transfer,membership), groups
 *                    (network, process, all) or faults (isolate-leader, member-replace, ...);
 *                    default all (membership adds one spare node slot)
 * --seed S           the first run's seed (hex 0x.. or decimal); later runs derive theirs
 * --runs N           runs (default 1)
 * --workloads LIST   W1,...,W6 or all (default all)
 * --rate R           operations per second (default 20 x nodes / 3)
 * --ops-per-key N    default 200
 * --interval FAST|STANDARD   nemesis timing (default STANDARD: 8-12 s healthy, 10-15 s faults)
 * --no-lease         run the nodes without the leader lease
 * --node-setting K=V an extra line for every node's configuration (repeatable), e.g.
 *                    ratis.raft.server.log.appender.retry.policy=1ms,10,1s,20,5s,1000
 * --node-jvm-option O an extra JVM option for every node (repeatable), e.g.
 *                    -Dlogback.configurationFile=/path/to/logback.xml for Ratis's debug logs
 * --out DIR          where run directories go (default chaos-tests/target/chaos)
 * --server-jar JAR   default server/target/keyrotor-server.jar
 * </pre>
 */
public final class ChaosMain {
  private ChaosMain() {}

  public static void main(String[] args) {
    int code;
    try {
      code = run(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      code = 2;
    } catch (Exception e) {
      System.err.println("error: " + e);
      e.printStackTrace();
      code = 1;
    }
    System.exit(code);
  }

  static int run(String[] args) throws Exception {
    int nodes = 5;
    Duration timeLimit = Duration.ofMinutes(5);
    String nemesis = "all";
    Long seed = null;
    int runs = 1;
    String workloads = "all";
    Double rate = null;
    int opsPerKey = 200;
    boolean lease = true;
    String interval = "STANDARD";
    List<String> nodeSettings = new ArrayList<>();
    List<String> nodeJavaOptions = new ArrayList<>();
    Path repo = Path.of(System.getProperty("chaos.repo", ".")).toAbsolutePath().normalize();
    Path out = repo.resolve("chaos-tests/target/chaos");
    Path jar = repo.resolve("server/target/keyrotor-server.jar");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--nodes" -> nodes = Integer.parseInt(value(args, ++i, a));
        case "--time-limit" -> timeLimit = duration(value(args, ++i, a));
        case "--nemesis" -> nemesis = value(args, ++i, a);
        case "--seed" -> seed = parseSeed(value(args, ++i, a));
        case "--runs" -> runs = Integer.parseInt(value(args, ++i, a));
        case "--workloads" -> workloads = value(args, ++i, a);
        case "--rate" -> rate = Double.parseDouble(value(args, ++i, a));
        case "--ops-per-key" -> opsPerKey = Integer.parseInt(value(args, ++i, a));
        case "--interval" -> interval = value(args, ++i, a).toUpperCase(Locale.ROOT);
        case "--no-lease" -> lease = false;
        case "--node-setting" ->
            nodeSettings.add(NetnsLauncher.Settings.nodeSetting(value(args, ++i, a)));
        case "--node-jvm-option" -> nodeJavaOptions.add(value(args, ++i, a).strip());
        case "--out" -> out = Path.of(value(args, ++i, a)).toAbsolutePath();
        case "--server-jar" -> jar = Path.of(value(args, ++i, a)).toAbsolutePath();
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    if (nodes != 3 && nodes != 5) {
      throw new IllegalArgumentException("--nodes must be 3 or 5");
    }
    Set<NemesisKind> kinds = NemesisKind.parse(nemesis);
    Set<Workload> chosen = Workload.parse(workloads);
    double opsPerSecond = rate != null ? rate : 20.0 * nodes / 3;
    Nemesis.Timing timing =
        interval.equals("FAST")
            ? new Nemesis.Timing(
                Duration.ofSeconds(4),
                Duration.ofSeconds(6),
                Duration.ofSeconds(6),
                Duration.ofSeconds(9))
            : Nemesis.Timing.standard();
    long first = seed != null ? seed : new SplittableRandom().nextLong();
    SplittableRandom seeds = new SplittableRandom(first);
    List<String> table = new ArrayList<>();
    boolean allPassed = true;
    for (int r = 0; r < runs; r++) {
      long runSeed = r == 0 ? first : seeds.nextLong();
      String rerun =
          String.format(
              Locale.ROOT,
              "scripts/chaos --nodes %d --time-limit %ds --nemesis %s --workloads %s --seed 0x%X%s%s%s%s",
              nodes,
              timeLimit.toSeconds(),
              nemesis,
              workloads,
              runSeed,
              lease ? "" : " --no-lease",
              interval.equals("FAST") ? " --interval fast" : "",
              nodeSettings.stream().map(s -> " --node-setting '" + s + "'").collect(joining()),
              nodeJavaOptions.stream()
                  .map(o -> " --node-jvm-option '" + o + "'")
                  .collect(joining()));
      ChaosRunner.Options options =
          new ChaosRunner.Options(
              "chaos/" + nemesis,
              nodes,
              timeLimit,
              kinds,
              runSeed,
              chosen,
              opsPerSecond,
              opsPerKey,
              out,
              jar,
              lease,
              timing,
              rerun,
              nodeSettings,
              nodeJavaOptions);
      String line;
      try {
        ChaosRunner.Outcome outcome = ChaosRunner.run(options, System.out);
        allPassed &= outcome.passed();
        line =
            String.format(
                Locale.ROOT,
                "%-4s %-24s seed=0x%016X %4ds %6d ops  %-12s %s  faults=%s",
                (r + 1) + "/" + runs,
                outcome.runId(),
                runSeed,
                outcome.elapsed().toSeconds(),
                outcome.operations(),
                outcome.summary().result(),
                verdicts(outcome.checks()),
                outcome.faults());
      } catch (Exception e) {
        allPassed = false;
        line =
            String.format(
                Locale.ROOT,
                "%-4s %-24s seed=0x%016X ERROR %s",
                (r + 1) + "/" + runs,
                "-",
                runSeed,
                e);
        e.printStackTrace();
      }
      System.out.println("chaos run " + line);
      table.add(line);
    }
    System.out.println();
    System.out.println("=== chaos summary: " + runs + " run(s), nemesis " + nemesis + " ===");
    table.forEach(System.out::println);
    System.out.println(allPassed ? "ALL PASSED" : "SOME RUNS DID NOT PASS");
    return allPassed ? 0 : 1;
  }

  private static String verdicts(List<CheckResult> checks) {
    StringBuilder out = new StringBuilder();
    for (CheckResult c : checks) {
      // "W2 primary (rev)" -> "W2(rev)", "final convergence" -> "final"
      String name = c.name().split(" ", -1)[0];
      int open = c.name().indexOf('(');
      if (open > 0 && c.name().endsWith(")") && !name.equals("availability")) {
        name += c.name().substring(open);
      }
      out.append(name).append('=').append(c.verdict()).append(' ');
    }
    return out.toString().strip();
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  static long parseSeed(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
  }

  static Duration duration(String text) {
    Matcher m = Pattern.compile("(\\d+)(ms|s|m|h)?").matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a duration: " + text + " (use 60s, 5m, 1h)");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }
}
