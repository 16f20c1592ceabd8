package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.proto.internal.v1.ClockWitness;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader whose command clock refuses to stamp puts nothing in the log, and the proposer (the
 * leader itself, or a follower that forwarded) is told CLOCK_UNSAFE with the clock's words; the
 * witness a clock returns is carried in the stamped command.
 */
class ClockRefusalIT {
  @TempDir Path root;
  private TestCluster cluster;

  @AfterEach
  void tearDown() {
    TestCluster.closeAndCheck(cluster);
  }

  @Test
  void refusingClock_proposalFailsClockUnsafe_nothingLogged_witnessStampedOtherwise()
      throws Exception {
    AtomicBoolean unsafe = new AtomicBoolean();
    ClockWitness witness =
        ClockWitness.newBuilder()
            // An hour behind the stamps: apply caps them at this time + 2 x 500 ms.
            .setMajorityTimeUnixMillis(System.currentTimeMillis() - 3_600_000)
            .setMaxOffsetMillis(500)
            .setMembersMeasured(3)
            .build();
    cluster = new TestCluster(root, 3, Function.identity());
    cluster.clocks =
        id ->
            () -> {
              if (unsafe.get()) {
                throw new ClockUnsafeException("the clock of " + id + " jumped");
              }
              return new CommandClock.Stamp(System.currentTimeMillis(), witness);
            };
    cluster.startAll();
    RaftNode leader = cluster.leader();
    TestCluster.await(leader.propose(TestCluster.createKey("before")));
    cluster.awaitConvergence();
    long applied = leader.state().appliedPosition().index();
    long lastTime = leader.state().lastCommandTimeMillis();
    assertEquals(witness.getMajorityTimeUnixMillis() + 1_000, lastTime, "capped by the witness");

    unsafe.set(true);
    for (RaftNode proposer : java.util.List.of(leader, cluster.followers().get(0))) {
      CompletionException failed =
          assertThrows(
              CompletionException.class,
              () -> proposer.propose(TestCluster.createKey("refused")).join());
      ConsensusException refused = assertConsensus(failed.getCause());
      assertEquals(ConsensusException.Kind.CLOCK_UNSAFE, refused.kind(), refused.getMessage());
      assertTrue(refused.getMessage().contains("jumped"), refused.getMessage());
    }
    assertEquals(applied, leader.state().appliedPosition().index(), "nothing reached the log");
    assertTrue(leader.state().key("refused").isEmpty());
  }

  private static ConsensusException assertConsensus(Throwable t) {
    assertTrue(t instanceof ConsensusException, () -> "not a ConsensusException: " + t);
    return (ConsensusException) t;
  }
}
