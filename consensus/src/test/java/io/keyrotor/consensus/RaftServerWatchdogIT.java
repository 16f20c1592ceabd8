package io.keyrotor.consensus;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose Ratis server closes on its own (as Ratis does after a JVM or host pause longer than
 * its close threshold, or after a failed apply) reports a fatal error instead of living on as a
 * member that answers "shutting down"; a stop the node asked for reports nothing.
 */
class RaftServerWatchdogIT {
  @TempDir Path root;
  private TestCluster cluster;

  @AfterEach
  void tearDown() {
    TestCluster.closeAndCheck(cluster);
  }

  @Test
  void divisionClosedByRatis_nodeReportsFatalError() throws Exception {
    cluster = new TestCluster(root, 3, Function.identity());
    cluster.startAll();
    RaftNode follower = cluster.followers().get(0);

    follower.raftDivision().close();

    String reported = awaitOneFatalError();
    assertTrue(reported.contains("node " + follower.nodeId()), reported);
    assertTrue(reported.contains("Raft server stopped while the node was running"), reported);
    // Reported once, not on every check.
    Thread.sleep(4 * RaftServerWatchdog.INTERVAL.toMillis());
    assertEquals(1, cluster.fatalErrors.size(), () -> "fatal errors: " + cluster.fatalErrors);
    cluster.stop(follower.nodeId());
    cluster.fatalErrors.clear();
  }

  @Test
  void wholeServerClosedByRatis_asAfterALongPause_nodeReportsFatalError() throws Exception {
    cluster = new TestCluster(root, 3, Function.identity());
    cluster.startAll();
    RaftNode leader = cluster.leader();
    RaftServer server = leader.raftDivision().getRaftServer();

    // What Ratis's JVM pause monitor does when a pause exceeds raft.server.close.threshold.
    server.close();

    String reported = awaitOneFatalError();
    assertTrue(reported.contains("node " + leader.nodeId()), reported);
    cluster.stop(leader.nodeId());
    cluster.fatalErrors.clear();
    // The others go on: a new leader takes writes.
    List<String> others = List.copyOf(cluster.nodes.keySet());
    assertEquals(2, others.size());
    waitUntil(
        () -> cluster.nodes.values().stream().anyMatch(RaftNode::isReadyLeader),
        Duration.ofSeconds(30),
        "a new leader among " + others);
  }

  @Test
  void nodeStoppedDeliberately_reportsNothing() throws Exception {
    cluster = new TestCluster(root, 3, Function.identity());
    cluster.startAll();
    cluster.leader();

    cluster.stop("n1");
    cluster.stop("n2");
    Thread.sleep(4 * RaftServerWatchdog.INTERVAL.toMillis());

    assertTrue(cluster.fatalErrors.isEmpty(), () -> "fatal errors: " + cluster.fatalErrors);
  }

  private String awaitOneFatalError() {
    waitUntil(
        () -> !cluster.fatalErrors.isEmpty(),
        Duration.ofSeconds(10),
        "a fatal error from the node whose server closed");
    return cluster.fatalErrors.get(0).getMessage();
  }
}
