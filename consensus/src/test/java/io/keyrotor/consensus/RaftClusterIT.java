package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.await;
import static io.keyrotor.consensus.TestCluster.createKey;
import static io.keyrotor.consensus.TestCluster.rotateKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RaftClusterIT {
  @TempDir Path root;
  private TestCluster cluster;

  private TestCluster cluster(Function<ConsensusConfig, ConsensusConfig> tuning) throws Exception {
    cluster = new TestCluster(root, 3, tuning);
    cluster.startAll();
    return cluster;
  }

  @AfterEach
  void tearDown() {
    TestCluster.closeAndCheck(cluster);
  }

  @Test
  void writes_appliedOnEveryReplica_sameDigestAtSameIndex() throws Exception {
    TestCluster c = cluster(Function.identity());
    for (int i = 0; i < 20; i++) {
      CommandResult result = await(c.leader().propose(createKey("key-" + i)));
      assertEquals(Code.OK_VALUE, result.getOutcome().getCode());
    }

    c.awaitConvergence();

    for (RaftNode node : c.nodes.values()) {
      assertEquals(20, node.state().keyCount(), node.nodeId());
    }
  }

  @Test
  void proposeOnFollower_forwardedToLeaderAndApplied() throws Exception {
    TestCluster c = cluster(Function.identity());
    RaftNode follower = c.followers().get(0);

    CommandResult result = await(follower.propose(createKey("via-follower")));

    assertEquals(Code.OK_VALUE, result.getOutcome().getCode());
    assertTrue(c.leader().state().key("via-follower").isPresent());
  }

  @Test
  void readBarrierOnFollower_seesWriteThatCompletedBefore() throws Exception {
    TestCluster c = cluster(Function.identity());
    RaftNode follower = c.followers().get(0);
    for (int i = 0; i < 30; i++) {
      String name = "rw-" + i;
      await(c.leader().propose(createKey(name)));

      follower.readBarrier().get();

      assertTrue(follower.state().key(name).isPresent(), "follower read after write of " + name);
    }
  }

  @Test
  void retriedWrite_sameRequestIdThroughDifferentNodes_appliesOnce() throws Exception {
    TestCluster c = cluster(Function.identity());
    await(c.leader().propose(createKey("k")));
    String requestId = UUID.randomUUID().toString();

    CommandResult first = await(c.leader().propose(rotateKey("k", requestId)));
    CommandResult retried = await(c.followers().get(0).propose(rotateKey("k", requestId)));

    assertEquals(2, first.getOutcome().getVersion());
    assertTrue(retried.getDeduplicated());
    assertEquals(first.getOutcome(), retried.getOutcome());
    c.awaitConvergence();
    for (RaftNode node : c.nodes.values()) {
      assertEquals(2, node.state().key("k").orElseThrow().getVersionsCount());
    }
  }

  @Test
  void leaderKilled_newLeaderElectedAndNoAcknowledgedWriteLost() throws Exception {
    TestCluster c = cluster(Function.identity());
    List<String> acknowledged = new ArrayList<>();
    for (int i = 0; i < 15; i++) {
      await(c.leader().propose(createKey("before-" + i)));
      acknowledged.add("before-" + i);
    }
    String oldLeader = c.leaderId();

    c.stop(oldLeader);
    RaftNode newLeader = c.leader();
    assertFalse(newLeader.nodeId().equals(oldLeader));
    for (int i = 0; i < 15; i++) {
      await(newLeader.propose(createKey("after-" + i)));
      acknowledged.add("after-" + i);
    }
    c.start(oldLeader);
    c.awaitConvergence();

    for (RaftNode node : c.nodes.values()) {
      node.readBarrier().get();
      for (String name : acknowledged) {
        assertTrue(node.state().key(name).isPresent(), node.nodeId() + " lost " + name);
      }
    }
  }

  @Test
  void followerRestarted_catchesUpToSameDigest() throws Exception {
    TestCluster c = cluster(Function.identity());
    await(c.leader().propose(createKey("a")));
    String follower = c.followers().get(0).nodeId();

    c.stop(follower);
    for (int i = 0; i < 25; i++) {
      await(c.leader().propose(createKey("while-down-" + i)));
    }
    c.start(follower);

    c.awaitConvergence();
    assertEquals(26, c.nodes.get(follower).state().keyCount());
  }

  @Test
  void followerWithWipedDataDirectory_rebuiltBySnapshotInstall() throws Exception {
    TestCluster c = cluster(config -> config.withSnapshots(40, 10, 4096));
    for (int i = 0; i < 30; i++) {
      await(c.leader().propose(createKey("early-" + i)));
    }
    c.awaitConvergence();
    String follower = c.followers().get(0).nodeId();

    c.stop(follower);
    c.wipe(follower);
    for (int i = 0; i < 120; i++) {
      await(c.leader().propose(createKey("late-" + i)));
    }
    RaftNode leader = c.leader();
    TestCluster.waitUntil(
        () -> leader.status().snapshotIndex() > 100, Duration.ofSeconds(20), "a leader snapshot");
    RaftNode rebuilt = c.start(follower);

    c.awaitConvergence();
    assertEquals(150, rebuilt.state().keyCount());
    assertEquals(
        1,
        rebuilt.status().snapshotsInstalled(),
        "the wiped follower was rebuilt from the leader's snapshot, not from a full log");
    assertTrue(leader.status().logStartIndex() > 0, "the leader purged its log");
  }

  @Test
  void nodeKilledAfterSnapshot_restartsFromStoreAheadOfSnapshotWithoutDoubleApply()
      throws Exception {
    TestCluster c = cluster(config -> config.withSnapshots(20, 5, 4096));
    for (int i = 0; i < 50; i++) {
      await(c.leader().propose(createKey("k-" + i)));
    }
    for (int i = 0; i < 10; i++) {
      await(c.leader().propose(rotateKey("k-0", "rot-" + i)));
    }
    c.awaitConvergence();
    String digest = c.leader().state().digest();
    String id = c.leaderId();

    c.stop(id);
    c.start(id);

    c.awaitConvergence();
    assertEquals(digest, c.nodes.get(id).state().digest());
    assertEquals(11, c.nodes.get(id).state().key("k-0").orElseThrow().getVersionsCount());
  }
}
