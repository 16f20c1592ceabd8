package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.chaos.launcher.NetnsLauncher;
import io.keyrotor.chaos.launcher.Shell;
import io.keyrotor.chaos.nemesis.Nemesis;
import io.keyrotor.chaos.nemesis.NemesisKind;
import io.keyrotor.chaos.runner.ChaosRunner;
import io.keyrotor.chaos.workload.Workload;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tier T2, the namespace smoke: three real node processes, each in its own network namespace, two
 * runs of about two minutes (A: network faults; B: process and clock faults), every workload
 * checked. Runs in {@code mvn verify} when the build runs as root with {@code ip} and {@code nft}
 * (scripts/test installs them); otherwise skipped with a message naming what is missing, or failed
 * with it under CI ({@link EnvironmentRequirement}).
 *
 * <p>{@code -Dchaos.seed=0x...} re-runs a seed; {@code -Dchaos.smoke.seconds=N} changes the length;
 * {@code -Dchaos.node-setting=KEY=VALUE;...} and {@code -Dchaos.node-jvm-option=...;...} add node
 * settings and node JVM options (to re-run a seed under other Raft settings, or with Ratis's debug
 * logs).
 */
class NetnsSmokeIT {
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();
  private static final Path SERVER_JAR = REPO.resolve("server/target/keyrotor-server.jar");

  @BeforeAll
  static void requireNamespaces() {
    EnvironmentRequirement.ofThisProcess()
        .requireNamespaceTier("the chaos namespace smoke (tier T2)", SERVER_JAR);
  }

  private static long seed(String run) {
    String given = System.getProperty("chaos.seed");
    if (given != null && !given.isBlank()) {
      String t = given.strip().toLowerCase(Locale.ROOT);
      return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
    }
    return new SplittableRandom().nextLong() ^ run.hashCode();
  }

  /** A system property's values, separated by ';' (for a diagnostic re-run). */
  private static List<String> listProperty(String name) {
    return java.util.Arrays.stream(System.getProperty(name, "").split(";"))
        .map(String::strip)
        .filter(v -> !v.isEmpty())
        .toList();
  }

  /** {@code -Dname='value'} if the property was given, for the re-run command. */
  private static String passedOn(String name) {
    String value = System.getProperty(name, "");
    return value.isBlank() ? "" : " -D" + name + "='" + value + "'";
  }

  private static Duration length() {
    return Duration.ofSeconds(Long.getLong("chaos.smoke.seconds", 120));
  }

  private static void run(String name, String nemesis) throws Exception {
    long seed = seed(name);
    String rerun =
        String.format(
            Locale.ROOT,
            "mvn -B -pl chaos-tests -am verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false"
                + " -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test='NetnsSmokeIT#%s'"
                + " -Dchaos.seed=0x%X%s",
            name,
            seed,
            passedOn("chaos.node-setting") + passedOn("chaos.node-jvm-option"));
    // A leftover of a crashed run (a namespace with a sleeping process in it): the run must reap
    // it.
    Shell.check("ip", "netns", "add", "krc-leak-n9");
    Process leaked =
        new ProcessBuilder("ip", "netns", "exec", "krc-leak-n9", "sleep", "600").start();
    ChaosRunner.Outcome outcome =
        ChaosRunner.run(
            new ChaosRunner.Options(
                "netns-smoke/" + name,
                3,
                length(),
                NemesisKind.parse(nemesis),
                seed,
                Workload.parse("all"),
                20,
                200,
                REPO.resolve("chaos-tests/target/chaos"),
                SERVER_JAR,
                true,
                Nemesis.Timing.standard(),
                rerun,
                listProperty("chaos.node-setting"),
                listProperty("chaos.node-jvm-option")),
            System.out);
    assertTrue(leaked.waitFor(10, TimeUnit.SECONDS), "the leaked process was reaped");
    // ... and the run must leave nothing behind itself.
    String namespaces = Shell.run("ip", "netns", "list").stdout();
    assertFalse(namespaces.contains(NetnsLauncher.PREFIX + "-"), namespaces);
    String links = Shell.run("ip", "-o", "link", "show").stdout();
    assertFalse(links.contains(": " + NetnsLauncher.PREFIX), links);
    assertTrue(
        outcome.passed(),
        () ->
            "chaos run "
                + outcome.runId()
                + " did not pass:\n"
                + outcome.summary().render()
                + nodeLogTails(outcome.directory()));
  }

  /**
   * The last lines of every node's log, so a failure on a machine whose artifacts are gone (a CI
   * clone) still shows what the nodes saw: elections, leader changes, Raft warnings.
   */
  private static String nodeLogTails(Path runDirectory) {
    StringBuilder out = new StringBuilder();
    try (var logs = Files.list(runDirectory.resolve("nodes"))) {
      for (Path log : logs.sorted().toList()) {
        List<String> lines = Files.readAllLines(log);
        out.append("\n--- last lines of ").append(log.getFileName()).append('\n');
        lines
            .subList(Math.max(0, lines.size() - 60), lines.size())
            .forEach(line -> out.append(line).append('\n'));
      }
    } catch (IOException | UncheckedIOException e) {
      out.append("\n(no node logs: ").append(e.getMessage()).append(")\n");
    }
    return out.toString();
  }

  @Test
  void runA_networkFaults() throws Exception {
    run("runA_networkFaults", "partition,loss,slow");
  }

  @Test
  void runB_processAndClockFaults() throws Exception {
    run("runB_processAndClockFaults", "kill,pause,clock,transfer");
  }
}
