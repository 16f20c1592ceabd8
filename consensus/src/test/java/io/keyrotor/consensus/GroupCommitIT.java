package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.createKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit over real Ratis: many concurrent writers share log entries, each gets its own
 * result, and no acknowledged write is lost when the leader stops amid them.
 */
class GroupCommitIT {
  @TempDir Path root;
  private TestCluster cluster;

  @AfterEach
  void tearDown() {
    TestCluster.closeAndCheck(cluster);
  }

  @Test
  void concurrentWriters_shareLogEntries_eachGetsItsOwnResult() throws Exception {
    cluster = new TestCluster(root, 3, Function.identity());
    cluster.startAll();
    RaftNode leader = cluster.leader();
    long indexBefore = leader.status().commitIndex();

    // 256 writers at once; every eighth creates a name another writer creates too (refused).
    List<CompletableFuture<CommandResult>> replies = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      String name = i % 8 == 7 ? "gc-" + (i - 1) : "gc-" + i;
      replies.add(leader.propose(createKey(name)));
    }
    int ok = 0;
    int exists = 0;
    for (CompletableFuture<CommandResult> reply : replies) {
      int code = reply.get(60, TimeUnit.SECONDS).getOutcome().getCode();
      ok += code == Code.OK_VALUE ? 1 : 0;
      exists += code == Code.ALREADY_EXISTS_VALUE ? 1 : 0;
    }
    assertEquals(224, ok, "each distinct name created once");
    assertEquals(32, exists, "each second create of a name refused, alone");

    cluster.awaitConvergence();
    long entries = leader.status().commitIndex() - indexBefore;
    assertTrue(entries < 256, "256 commands in " + entries + " log entries");
    assertTrue(leader.groupCommitCounts().commandsInBatches() > 0);
    for (RaftNode node : cluster.nodes.values()) {
      assertEquals(224, node.state().keyCount(), node.nodeId());
    }
  }

  @Test
  void leaderStopsAmidBatches_everyAcknowledgedWriteIsOnEveryReplica() throws Exception {
    cluster = new TestCluster(root, 3, Function.identity());
    cluster.startAll();
    RaftNode leader = cluster.leader();
    String leaderId = leader.nodeId();

    List<String> names = new ArrayList<>();
    List<CompletableFuture<CommandResult>> replies = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String name = "kill-" + i;
      names.add(name);
      replies.add(leader.propose(createKey(name)));
      if (i == 150) {
        // Some batches are applied, some in flight, some still gathering.
        replies.get(20).get(60, TimeUnit.SECONDS);
        cluster.stop(leaderId);
      }
    }
    List<String> acknowledged = new ArrayList<>();
    for (int i = 0; i < replies.size(); i++) {
      try {
        CommandResult result = replies.get(i).get(60, TimeUnit.SECONDS);
        if (result.getOutcome().getCode() == Code.OK_VALUE) {
          acknowledged.add(names.get(i));
        }
      } catch (java.util.concurrent.ExecutionException failed) {
        // Not acknowledged: it may or may not have been applied.
      }
    }
    assertFalse(acknowledged.isEmpty(), "writes acknowledged before the leader stopped");

    // The survivors elect a leader and take writes, retried request ids deduplicated.
    RaftNode survivor = cluster.leader();
    Command after = createKey("after-stop");
    assertEquals(Code.OK_VALUE, TestCluster.await(survivor.propose(after)).getOutcome().getCode());
    cluster.start(leaderId);
    cluster.awaitConvergence();
    for (RaftNode node : cluster.nodes.values()) {
      for (String name : acknowledged) {
        assertTrue(node.state().key(name).isPresent(), node.nodeId() + " lost " + name);
      }
    }
  }
}
