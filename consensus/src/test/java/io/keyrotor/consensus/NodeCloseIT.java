package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.await;
import static io.keyrotor.consensus.TestCluster.createKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's close on a real Raft group: it returns only when the node's state machine is done, so
 * nothing writes into the node's directory afterwards (an operator, or a test, may delete it at
 * once), also when it is called from an interrupted thread. Ratis 3.3.0 closes a server's divisions
 * on another thread and waits for it only while the caller is not interrupted; a follower whose
 * apply is slow would otherwise still apply its last entries and write its snapshot on stop after
 * close returned.
 */
class NodeCloseIT {
  /** How long the slow follower's listener holds the apply of one entry. */
  private static final long SLOW_APPLY_MILLIS = 2_000;

  @TempDir Path root;
  private TestCluster cluster;

  @AfterEach
  void tearDown() {
    TestCluster.closeAndCheck(cluster);
  }

  @Test
  void close_waitsForTheLastApplyAndTheSnapshotOnStop_thenTheDirectoryCanBeDeleted()
      throws Exception {
    AtomicBoolean slow = new AtomicBoolean();
    CountDownLatch slowApplyEntered = new CountDownLatch(1);
    AtomicBoolean slowApplyDone = new AtomicBoolean();
    String[] slowNode = {""};
    // Snapshots far apart (none before the stop), so the one found afterwards is the stop's.
    cluster = new TestCluster(root, 3, config -> config.withSnapshots(100_000, 5));
    cluster.listeners =
        id ->
            List.of(
                (command, result, index, nanos) -> {
                  if (slow.get() && id.equals(slowNode[0])) {
                    slowApplyEntered.countDown();
                    try {
                      Thread.sleep(SLOW_APPLY_MILLIS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    slowApplyDone.set(true);
                  }
                });
    cluster.startAll();
    for (int i = 0; i < 5; i++) {
      assertEquals(
          Code.OK_VALUE,
          await(cluster.leader().propose(createKey("k-" + i))).getOutcome().getCode());
    }
    cluster.awaitConvergence();
    RaftNode follower = cluster.followers().get(0);
    slowNode[0] = follower.nodeId();
    slow.set(true);
    CommandResult last = await(cluster.leader().propose(createKey("last")));
    long lastIndex = last.getOutcome().getAppliedIndex();
    assertTrue(
        slowApplyEntered.await(30, TimeUnit.SECONDS), "the follower started applying the entry");

    // Stopped from an interrupted thread (a stop whose own wait was interrupted): Ratis's close
    // then waits for nothing, so the node's close has to.
    Thread.currentThread().interrupt();
    try {
      cluster.stop(follower.nodeId());
      assertTrue(Thread.interrupted(), "the caller's interrupt is kept");
    } finally {
      Thread.interrupted();
    }

    assertTrue(slowApplyDone.get(), "close returned while the last entry was still being applied");
    assertTrue(follower.stateMachineClosed(), "close returned with the state machine open");
    List<Long> snapshots = snapshotIndexes(root.resolve(follower.nodeId()));
    assertEquals(1, snapshots.size(), "the snapshot taken on stop: " + snapshots);
    assertTrue(snapshots.get(0) >= lastIndex, "it holds the last entry: " + snapshots);
    deleteTree(root.resolve(follower.nodeId())); // nothing is written into it any more
    assertTrue(Files.notExists(root.resolve(follower.nodeId())));
  }

  /** The indexes of the published snapshots under {@code nodeDirectory}, in order. */
  private static List<Long> snapshotIndexes(Path nodeDirectory) throws Exception {
    try (Stream<Path> walk = Files.walk(nodeDirectory)) {
      return walk.filter(Files::isDirectory)
          .map(SnapshotDirectory::termIndexOf)
          .flatMap(java.util.Optional::stream)
          .map(TermIndex::getIndex)
          .sorted()
          .toList();
    }
  }

  private static void deleteTree(Path directory) throws Exception {
    try (Stream<Path> walk = Files.walk(directory)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
