package io.keyrotor.chaos.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cluster layout of a test run, for both the namespace tier and the container tier: what {@code
 * scripts/cluster up} writes ({@code keyrotor-server local-cluster}: software HSM key files with
 * shared zone master keys, the development CA and certificates under {@code tls/}, the bootstrap
 * authorisation policy), with each node's peers moved from 127.0.0.1 to their addresses on the test
 * network, each node's certificate issued again to name its address, chaos mode on (a test cluster)
 * and the run's Raft settings.
 */
public final class TestClusterLayout {
  private static final Pattern PEER =
      Pattern.compile("^peer\\.(n\\d+)\\.(raft|api)=127\\.0\\.0\\.1:(\\d+)$");

  private TestClusterLayout() {}

  /**
   * Runs {@code local-cluster} into {@code clusterDirectory} for {@code nodeIds}, then issues each
   * node's certificate again for {@code address.apply(nodeId)}.
   */
  public static void create(
      String java,
      Path serverJar,
      Path clusterDirectory,
      List<String> nodeIds,
      int apiPortBase,
      Function<String, String> address)
      throws IOException {
    Shell.run(
            List.of(
                java,
                "-jar",
                serverJar.toString(),
                "local-cluster",
                "--dir",
                clusterDirectory.toString(),
                "--nodes",
                String.valueOf(nodeIds.size()),
                "--base-port",
                String.valueOf(apiPortBase)),
            null,
            // Generous: on a loaded machine the key files alone (PBKDF2 per node) take minutes.
            Duration.ofMinutes(5))
        .orThrow();
    for (String id : nodeIds) {
      ClusterTls.issueNodeCertificate(clusterDirectory, id, address.apply(id));
    }
  }

  /**
   * Rewrites {@code nodeId}'s {@code node.properties}: each peer that {@code listsPeer} accepts
   * moves to {@code address.apply(peer)} at the same port, the others are left out, local-cluster's
   * own {@code raft.*} lines go, and {@code settings} (KEY=VALUE lines) are appended.
   */
  public static void moveToNetwork(
      Path clusterDirectory,
      String nodeId,
      Function<String, String> address,
      Predicate<String> listsPeer,
      List<String> settings)
      throws IOException {
    Path file = clusterDirectory.resolve(nodeId).resolve("node.properties");
    StringBuilder out = new StringBuilder();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      Matcher m = PEER.matcher(line);
      if (m.matches()) {
        if (!listsPeer.test(m.group(1))) {
          continue;
        }
        line =
            "peer."
                + m.group(1)
                + "."
                + m.group(2)
                + "="
                + address.apply(m.group(1))
                + ":"
                + m.group(3);
      } else if (line.startsWith("raft.")) {
        continue;
      }
      out.append(line).append('\n');
    }
    out.append("# chaos run settings\n");
    for (String setting : settings) {
      out.append(setting).append('\n');
    }
    Files.writeString(file, out.toString(), StandardCharsets.UTF_8);
  }

  /**
   * The settings every chaos node runs with: chaos mode on (the chaos service is refused unless the
   * configuration says this is a test cluster), the run's election timeouts and lease, and
   * followers serving data-plane reads through ReadIndex instead of redirecting to the leader, so
   * "encrypt on one node, decrypt on another" really runs on another node.
   */
  public static List<String> chaosSettings(
      Duration electionTimeoutMin, Duration electionTimeoutMax, boolean leaderLease) {
    return List.of(
        "chaos.enabled=true",
        "chaos.test-cluster=true",
        "raft.election-timeout-min=" + electionTimeoutMin.toMillis() + "ms",
        "raft.election-timeout-max=" + electionTimeoutMax.toMillis() + "ms",
        "raft.leader-lease=" + leaderLease,
        "reads.follower=read-index");
  }
}
