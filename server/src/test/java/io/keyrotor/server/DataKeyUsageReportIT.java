package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.KeyRequests.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.server.dataplane.DataKeyUsageReporter;
import io.keyrotor.storage.version.ApplyFeature;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Data key counts reach the replicated state exactly once, on a real 3-node cluster (mutual TLS,
 * Ratis, RocksDB, software HSMs). The nodes' report interval is an hour, so no periodic report runs
 * during a test: a node stopped gracefully right after issuing data keys reports them on its way
 * out; a report that fails, or applies but whose reply is lost, is retried with its request id and
 * counted once; a node left without a leader still stops, within the final report's bound.
 */
@Tag("integration")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DataKeyUsageReportIT extends ClusterTestBase {
  private static final int ISSUED = 7;

  DataKeyUsageReportIT() {
    super(
        List.of("local"),
        Map.of(
            "reads.follower", "read-index",
            "usage.report-interval", "1h",
            "upgrade.check-interval", "1s"));
  }

  @Test
  @Order(1)
  void gracefulStop_reportsTheCountsTheNodeHeld() throws Exception {
    String follower = cluster.followerIds().get(0);
    String name = keyWithDataKeys("final-report", follower);

    cluster.stop(follower);

    String leader = cluster.leaderId();
    waitUntil(
        () -> issuedUnder(leader, name) >= ISSUED,
        Duration.ofSeconds(30),
        "the stopped node's data key counts");
    cluster.start(follower);
    cluster.awaitRegistered();
    cluster.awaitConvergence();
    assertEquals(ISSUED, issuedUnder(cluster.leaderId(), name));
    assertEquals(ISSUED, issuedUnder(follower, name));
  }

  /**
   * The first attempt fails before reaching the log (as without a leader), the second applies but
   * its reply is lost (as with a timeout): both stay pending and are retried with the same request
   * id, which the state machine deduplicates, so the counts arrive once.
   */
  @Test
  @Order(2)
  void failedReports_areRetriedWithTheirRequestId_andCountedOnce() throws Exception {
    String node = cluster.leaderId();
    String name = keyWithDataKeys("retried-report", node);
    RaftNode raft = cluster.nodes.get(node).raft();
    List<Command> attempts = new CopyOnWriteArrayList<>();
    DataKeyUsageReporter reporter =
        new DataKeyUsageReporter(
            node,
            cluster.nodes.get(node).dataPlane().dataKeyUsage(),
            command -> {
              attempts.add(command);
              return switch (attempts.size()) {
                case 1 -> CompletableFuture.failedFuture(new TimeoutException("no leader"));
                case 2 ->
                    raft.propose(command)
                        .thenCompose(
                            applied ->
                                CompletableFuture.failedFuture(new TimeoutException("lost")));
                default -> raft.propose(command);
              };
            },
            () -> raft.state().activeClusterVersion());

    reporter.tick(); // fails at once: kept
    assertEquals(1, reporter.pendingReports());
    assertEquals(0, issuedUnder(node, name));
    reporter.tick(); // applies, but the reporter sees a failure
    assertTrue(reporter.flush(Duration.ofSeconds(30)));

    assertEquals(3, attempts.size());
    assertEquals(1, attempts.stream().map(Command::getRequestId).distinct().count());
    assertEquals(0, reporter.pendingReports());
    cluster.awaitConvergence();
    for (String id : cluster.nodes.keySet()) {
      assertEquals(ISSUED, issuedUnder(id, name), id);
    }
  }

  /** A node whose peers are gone cannot report, and still stops, after the final report's bound. */
  @Test
  @Order(3)
  void nodeWithoutLeader_stopsWithinTheFinalReportBound() throws Exception {
    String last = cluster.followerIds().get(0);
    keyWithDataKeys("leaderless", last);
    cluster.nodes.keySet().stream().filter(id -> !id.equals(last)).toList().forEach(cluster::stop);
    // Leadership can move to this node before its peers stop; a leader without a majority steps
    // down once Ratis's leader step-down wait (10 s) passes without their answers.
    waitUntil(
        () -> !cluster.nodes.get(last).raft().isReadyLeader(),
        Duration.ofSeconds(60),
        last + " no longer a ready leader without its peers");

    // Five seconds of final report, then the rest of the stop; a hang fails here.
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> cluster.stop(last));
  }

  /**
   * A new key (named {@link #unique}{@code (prefix)}) with {@link #ISSUED} data keys issued under
   * its version 1 through {@code node}, once the cluster counts data keys.
   */
  private String keyWithDataKeys(String prefix, String node) {
    awaitUsageCounting();
    String name = unique(prefix);
    cluster.keys(cluster.leaderId()).createKey(newKey(name));
    issueDataKeys(node, name);
    return name;
  }

  private void awaitUsageCounting() {
    waitUntil(
        () ->
            cluster.nodes.values().stream()
                .allMatch(
                    n ->
                        ApplyFeature.DATA_KEY_USAGE_COUNTS.activeAt(
                            n.raft().state().activeClusterVersion())),
        Duration.ofMinutes(1),
        "the cluster version that counts data keys");
  }

  private void issueDataKeys(String node, String name) {
    for (int i = 0; i < ISSUED; i++) {
      assertEquals(
          1,
          cluster
              .keys(node)
              .generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName(name).build())
              .getKeyVersion());
    }
  }

  /** Data keys issued under version 1 of {@code name}, as node {@code id} applied them. */
  private long issuedUnder(String id, String name) {
    return cluster
        .nodes
        .get(id)
        .raft()
        .state()
        .key(name)
        .orElseThrow()
        .getVersions(0)
        .getDataKeysIssued();
  }
}
