package io.keyrotor.chaos.upgrade;

import io.keyrotor.chaos.launcher.ClusterTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code scripts/chaos --upgrade}: one rolling upgrade of a 3-node loopback cluster from the old
 * jar (built by {@code scripts/old-server-jar}) to this build's. Prints one line per check and a
 * line {@code upgrade run ...}; writes {@code summary.txt} and the nodes' logs under the run's
 * directory; exit status 0 if every check passed, 1 if one failed, 2 on a usage error.
 *
 * <pre>
 *   UpgradeMain --old-jar JAR --new-jar JAR --old-commit HASH [--base-port P] [--out DIR]
 * </pre>
 */
public final class UpgradeMain {
  private UpgradeMain() {}

  public static void main(String[] args) throws Exception {
    Path oldJar = null;
    Path newJar = null;
    String oldCommit = "";
    int basePort = 7600;
    Path out = Path.of("chaos-tests", "target", "chaos");
    for (int i = 0; i < args.length; i += 2) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--old-jar" -> oldJar = Path.of(required(args[i], value));
        case "--new-jar" -> newJar = Path.of(required(args[i], value));
        case "--old-commit" -> oldCommit = required(args[i], value);
        case "--base-port" -> basePort = Integer.parseInt(required(args[i], value));
        case "--out" -> out = Path.of(required(args[i], value));
        default -> usage("unknown option " + args[i]);
      }
    }
    if (oldJar == null || newJar == null) {
      usage("--old-jar and --new-jar are required");
    }
    String name =
        "upgrade-"
            + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(ZoneOffset.UTC)
                .format(Instant.now());
    Path runDirectory = out.resolve(name).toAbsolutePath();
    Path cluster = runDirectory.resolve("cluster");
    Files.createDirectories(runDirectory);
    String javaCommand = ProcessHandle.current().info().command().orElse("java");
    Instant started = Instant.now();
    List<String> lines = new ArrayList<>();
    boolean passed;
    try (UpgradeNodes nodes = UpgradeNodes.layOut(javaCommand, oldJar, cluster, 3, basePort)) {
      RollingUpgrade upgrade = new RollingUpgrade(nodes, ClusterTls.adminCredentials(cluster));
      try {
        upgrade.run(oldJar, newJar);
      } catch (RuntimeException | IOException e) {
        lines.add("FAIL the run stopped: " + e);
      } finally {
        upgrade.closeChannels();
        lines.addAll(0, upgrade.checks());
      }
      passed = upgrade.passed() && lines.stream().noneMatch(l -> l.startsWith("FAIL"));
    }
    long seconds = Duration.between(started, Instant.now()).toSeconds();
    String verdict =
        "upgrade run "
            + name
            + " from "
            + oldCommit
            + ": "
            + (passed ? "PASS" : "FAIL")
            + " in "
            + seconds
            + " s; nodes' logs in "
            + cluster;
    lines.add(verdict);
    Files.write(runDirectory.resolve("summary.txt"), lines, StandardCharsets.UTF_8);
    System.out.println(verdict);
    System.exit(passed ? 0 : 1);
  }

  private static String required(String option, String value) {
    if (value == null) {
      usage(option + " needs a value");
    }
    return value;
  }

  private static void usage(String problem) {
    System.err.println("error: " + problem);
    System.exit(2);
  }
}
