package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.await;
import static io.keyrotor.consensus.TestCluster.createKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos hook's slow link: {@link RaftNode#setRpcDelay} delays the Raft requests this JVM sends
 * (here all three nodes share the JVM), so a write waits for the delayed append; removing the delay
 * restores the speed.
 */
class RpcDelayIT {
  @TempDir Path root;
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.leader().setRpcDelay(Duration.ZERO, Duration.ZERO);
      cluster.close();
    }
  }

  private long medianWriteMillis(RaftNode leader, String prefix) {
    long[] millis = new long[9];
    for (int i = 0; i < millis.length; i++) {
      long start = System.nanoTime();
      await(leader.propose(createKey(prefix + i)));
      millis[i] = (System.nanoTime() - start) / 1_000_000;
    }
    Arrays.sort(millis);
    return millis[millis.length / 2];
  }

  /** The fastest of {@code count} writes, each waiting for its replication. */
  private long fastestWriteMillis(RaftNode leader, String prefix, int count) {
    long fastest = Long.MAX_VALUE;
    for (int i = 0; i < count; i++) {
      long start = System.nanoTime();
      await(leader.propose(createKey(prefix + i)));
      fastest = Math.min(fastest, (System.nanoTime() - start) / 1_000_000);
    }
    return fastest;
  }

  /**
   * The region delays of {@code scripts/bench --scenarios region}: each is installed as asked, and
   * no write commits sooner than the delay (its append waits for it before it leaves the leader).
   * Only lower bounds are asserted: how much slower a loaded machine makes it says nothing.
   */
  @Test
  void regionDelays_installedAsAsked_everyWriteWaitsAtLeastTheDelay() throws Exception {
    cluster = new TestCluster(root, 3, Function.identity());
    cluster.startAll();
    RaftNode leader = cluster.leader();
    fastestWriteMillis(leader, "warm-", 3);
    for (int delayMillis : List.of(20, 80)) {
      leader.setRpcDelay(Duration.ofMillis(delayMillis), Duration.ZERO);
      assertEquals(Duration.ofMillis(delayMillis), leader.rpcDelay());
      long fastest = fastestWriteMillis(leader, "region-" + delayMillis + "-", 5);
      assertTrue(
          fastest >= delayMillis,
          "the fastest write at " + delayMillis + " ms took " + fastest + " ms");
    }
    leader.setRpcDelay(Duration.ZERO, Duration.ZERO);
    assertEquals(Duration.ZERO, leader.rpcDelay());
  }

  @Test
  void rpcDelay_slowsReplicatedWrites_andZeroRemovesIt() throws Exception {
    cluster = new TestCluster(root, 3, Function.identity());
    cluster.startAll();
    RaftNode leader = cluster.leader();
    medianWriteMillis(leader, "warm-");

    leader.setRpcDelay(Duration.ofMillis(150), Duration.ZERO);
    long delayed = medianWriteMillis(leader, "slow-");
    leader.setRpcDelay(Duration.ZERO, Duration.ZERO);
    long normal = medianWriteMillis(leader, "fast-");

    assertTrue(delayed >= 150, "a write waits for a delayed append: " + delayed + " ms");
    assertTrue(normal < delayed - 100, "without the delay: " + normal + " ms vs " + delayed);
  }
}
