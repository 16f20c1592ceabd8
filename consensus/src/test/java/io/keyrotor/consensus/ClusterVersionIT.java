package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.await;
import static io.keyrotor.consensus.TestCluster.createKey;
import static io.keyrotor.consensus.TestCluster.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.SetClusterVersion;
import io.keyrotor.storage.version.UnsupportedClusterVersionException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose binary supports less than the log asks for stops instead of applying: a real Raft
 * group where n3 is capped at version 1 (as an older binary) while the others raise the cluster to
 * 2. n3 reports the unsupported version to its fatal error handler and applies nothing past it,
 * refuses to start capped again, and catches up to the same digest once started uncapped.
 */
class ClusterVersionIT {
  @TempDir Path root;
  private TestCluster cluster;

  @AfterEach
  void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Command setVersion(int version) {
    return Command.newBuilder()
        .setRequestId(UUID.randomUUID().toString())
        .setOriginNode("test")
        .setSetClusterVersion(SetClusterVersion.newBuilder().setVersion(version))
        .build();
  }

  @Test
  void raiseAboveWhatANodeSupports_thatNodeStopsBeforeApplying_andCatchesUpOnceUpgraded()
      throws Exception {
    boolean[] capN3 = {true};
    cluster =
        new TestCluster(
            root,
            3,
            c -> c.nodeId().equals("n3") && capN3[0] ? c.withMaxSupportedClusterVersion(1) : c);
    // n1 and n2 elect the leader before n3 starts, so the capped node never leads.
    cluster.start("n1");
    cluster.start("n2");
    String leader = cluster.leaderId();
    cluster.start("n3");
    assertTrue(List.of("n1", "n2").contains(leader), leader);
    await(cluster.leader().propose(createKey("before")));
    cluster.awaitConvergence();

    CommandResult raised = await(cluster.leader().propose(setVersion(2)));
    long raiseIndex = raised.getOutcome().getAppliedIndex();

    assertEquals(Code.OK_VALUE, raised.getOutcome().getCode(), raised.toString());
    waitUntil(
        () -> !cluster.fatalErrors.isEmpty(), Duration.ofSeconds(30), "n3 refusing the raise");
    Throwable cause = cluster.fatalErrors.get(0).getCause();
    assertInstanceOf(UnsupportedClusterVersionException.class, cause);
    assertTrue(cause.getMessage().contains("needs cluster version 2"), cause.getMessage());
    RaftNode n3 = cluster.nodes.get("n3");
    assertEquals(1, n3.state().activeClusterVersion());
    assertTrue(n3.state().appliedPosition().index() < raiseIndex);
    // The leader applied the raise before it answered; its follower applies it on the next
    // commit-index update, which may come after n3 (the other follower) refused it.
    waitUntil(
        () ->
            List.of("n1", "n2").stream()
                .allMatch(id -> cluster.nodes.get(id).state().activeClusterVersion() == 2),
        Duration.ofSeconds(30),
        "n1 and n2 at cluster version 2");

    // Writes go on with the majority; the stopped node is replaced by the new binary.
    await(cluster.leader().propose(createKey("after")));
    cluster.stop("n3");
    cluster.fatalErrors.clear();
    capN3[0] = false;
    cluster.start("n3");
    cluster.awaitConvergence();
    assertEquals(2, cluster.nodes.get("n3").state().activeClusterVersion());
    assertTrue(cluster.nodes.get("n3").state().key("after").isPresent());
    assertTrue(cluster.fatalErrors.isEmpty(), () -> "fatal errors: " + cluster.fatalErrors);

    // Started capped again (an older binary put back), it refuses to open its store.
    cluster.stop("n3");
    capN3[0] = true;
    IOException refused = assertThrows(IOException.class, () -> cluster.start("n3"));
    assertTrue(refused.getMessage().contains("UPGRADE REQUIRED"), refused.getMessage());
  }
}
