package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.await;
import static io.keyrotor.consensus.TestCluster.createKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apply listeners on a real Raft group: one that throws on every command neither stops a node nor
 * keeps the next listener from seeing every applied entry, also when entries are replayed after a
 * restart.
 */
class ApplyListenersIT {
  @TempDir Path root;
  private TestCluster cluster;

  /** What each node's counting listener saw since the node last started: index -> deduplicated. */
  private final Map<String, ConcurrentSkipListMap<Long, Boolean>> seen = new ConcurrentHashMap<>();

  @AfterEach
  void tearDown() {
    TestCluster.closeAndCheck(cluster);
  }

  private TestCluster startCluster() throws Exception {
    return startCluster(Function.identity());
  }

  private TestCluster startCluster(Function<ConsensusConfig, ConsensusConfig> tuning)
      throws Exception {
    cluster = new TestCluster(root, 3, tuning);
    cluster.listeners =
        id -> {
          ConcurrentSkipListMap<Long, Boolean> indexes = new ConcurrentSkipListMap<>();
          seen.put(id, indexes);
          return List.of(
              (command, result, index, nanos) -> {
                throw new IllegalStateException("this listener fails on every entry");
              },
              (command, result, index, nanos) -> indexes.put(index, result.getDeduplicated()));
        };
    cluster.startAll();
    return cluster;
  }

  private static List<Long> write(TestCluster c, String prefix, int count) {
    List<Long> indexes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      CommandResult result = await(c.leader().propose(createKey(prefix + i)));
      assertEquals(Code.OK_VALUE, result.getOutcome().getCode(), result.toString());
      indexes.add(result.getOutcome().getAppliedIndex());
    }
    return indexes;
  }

  @Test
  void firstListenerThrowsOnEveryEntry_writesSucceed_secondSeesEveryIndex_failuresCounted()
      throws Exception {
    TestCluster c = startCluster();

    List<Long> written = write(c, "k-", 30);
    c.awaitConvergence();

    for (RaftNode node : c.nodes.values()) {
      Set<Long> indexes = seen.get(node.nodeId()).keySet();
      assertTrue(indexes.containsAll(written), node.nodeId() + " saw " + indexes);
      assertEquals(indexes.size(), node.applyListenerFailures(), node.nodeId());
      assertEquals(30, node.state().keyCount(), node.nodeId());
    }
    assertTrue(c.leader().isReadyLeader(), "the group still has a leader");
  }

  @Test
  void nodeRestartedAheadOfItsSnapshot_replayedEntriesReachTheListenersToo() throws Exception {
    // A snapshot every 20 entries and none when a node stops, as after a crash: the restarted
    // node resumes from its snapshot, behind its store, and replays the entries in between.
    TestCluster c =
        startCluster(
            config ->
                config
                    .withSnapshots(20, 5, 4096)
                    .withRatisOverrides(
                        Map.of("raft.server.snapshot.trigger-when-stop.enabled", "false")));
    List<Long> before = write(c, "before-", 30);
    c.awaitConvergence();
    String follower = c.followers().get(0).nodeId();
    RaftStatus stopped = c.nodes.get(follower).status();
    assertTrue(
        stopped.snapshotIndex() < stopped.appliedIndex(),
        "the store is ahead of the snapshot: " + stopped);

    c.stop(follower);
    List<Long> whileDown = write(c, "while-down-", 10);
    RaftNode restarted = c.start(follower);
    List<Long> after = write(c, "after-", 5);
    c.awaitConvergence();

    Map<Long, Boolean> indexes = seen.get(follower);
    List<Long> replayed =
        before.stream()
            .filter(i -> i > stopped.snapshotIndex() && i <= stopped.appliedIndex())
            .toList();
    assertTrue(!replayed.isEmpty(), "entries between the snapshot and the store: " + stopped);
    for (long index : replayed) {
      assertEquals(
          true,
          indexes.get(index),
          "entry " + index + " replayed to the listener, answered as already applied: " + indexes);
    }
    for (long index : union(whileDown, after)) {
      assertEquals(false, indexes.get(index), "entry " + index + " applied: " + indexes);
    }
    assertEquals(indexes.size(), restarted.applyListenerFailures());
    assertEquals(45, restarted.state().keyCount());
  }

  private static Set<Long> union(List<Long> a, List<Long> b) {
    Set<Long> all = new TreeSet<>(a);
    all.addAll(b);
    return all;
  }
}
