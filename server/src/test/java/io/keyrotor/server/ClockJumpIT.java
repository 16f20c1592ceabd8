package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.KeyRequests.key;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.rotation;
import static io.keyrotor.server.KeyRequests.seconds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.chaos.v1.ChaosServiceGrpc;
import io.keyrotor.api.chaos.v1.ResetRequest;
import io.keyrotor.api.chaos.v1.SetClockOffsetRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.TransferLeadershipRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clock safety on a real 3-node cluster: the leader's clock jumps 400 days forward (the chaos
 * clock) and no version is destroyed or activated early, no scheduled rotation runs, and the
 * cluster's time stays real; the jumped node hands leadership over and writes go on under a leader
 * whose clock agrees. Then its clock jumps 400 days back and, made leader again, it reissues
 * nothing: no duplicate rotation or version, no re-activation.
 */
class ClockJumpIT {
  private static final long DAY_MILLIS = 86_400_000L;
  private static final long JUMP_MILLIS = 400 * DAY_MILLIS;
  private static final long DAY_SECONDS = 86_400L;

  @TempDir Path directory;
  private LocalTestCluster cluster;

  @AfterEach
  void stop() {
    LocalTestCluster.closeChecked(cluster);
  }

  @Test
  void leaderClockJumps400DaysForwardThenBack_nothingDestroyedActivatedOrReissued()
      throws Exception {
    cluster = new LocalTestCluster(directory.resolve("c"), 3, List.of("local"));
    for (String id : List.of("n1", "n2", "n3")) {
      cluster.configure(id, "chaos.enabled", "true");
      cluster.configure(id, "chaos.test-cluster", "true");
    }
    cluster.startAll();

    // v1 scheduled for destruction in 30 days, v2 primary, v3 pending for 30 days; a key whose
    // policy rotates it every 90 days.
    String leader = cluster.leaderId();
    cluster.keys(leader).createKey(newKey("jump"));
    cluster.keys(leader).rotateKey(rotation("jump", 0));
    cluster
        .keys(leader)
        .scheduleKeyVersionDestroy(
            ScheduleKeyVersionDestroyRequest.newBuilder()
                .setName("jump")
                .setVersion(1)
                .setWaitingPeriod(seconds(30 * DAY_SECONDS))
                .build());
    cluster.keys(leader).rotateKey(rotation("jump", 30 * DAY_SECONDS));
    cluster
        .keys(leader)
        .createKey(
            newKey(
                "periodic",
                RotationPolicy.newBuilder().setRotationPeriod(seconds(90 * DAY_SECONDS))));
    assertUnchangedEverywhere();
    waitUntil(this::everyClockSafe, Duration.ofSeconds(30), "every node measured its peers");

    // Forward: the leader's clock jumps 400 days.
    String jumped = leader;
    setOffset(jumped, JUMP_MILLIS);
    NodeStatus jumpedStatus = cluster.admin(jumped).getNodeStatus(statusRequest());
    assertEquals("UNSAFE", jumpedStatus.getClock().getState(), jumpedStatus::toString);
    assertWriteRefusedOrStampedInRealTime(jumped, "forward");
    waitUntil(
        () ->
            !cluster.nodes.get(jumped).raft().isReadyLeader() && !leaderOtherThan(jumped).isEmpty(),
        Duration.ofSeconds(30),
        "the jumped leader handed leadership over");
    String healthy = leaderOtherThan(jumped);
    RotateKeyResponse afterHandover = cluster.keys(jumped).rotateKey(rotation("periodic", 0));
    assertStampedInRealTime(afterHandover, "a write through the jumped node, after the handover");
    // Every node's rotation engine had its chances to act on the jumped clock.
    pauseForTheRotationEngine();
    assertUnchangedEverywhere();
    assertEquals(2, keyOn(jumped, "periodic").getVersionsCount(), "only the rotation asked for");

    // Back: the same node's clock jumps 400 days behind real time, and it is made leader again.
    setOffset(jumped, -JUMP_MILLIS);
    try {
      cluster
          .admin(healthy)
          .transferLeadership(
              TransferLeadershipRequest.newBuilder().setTargetNodeId(jumped).build());
    } catch (StatusRuntimeException e) {
      // It may hand leadership back before the transfer is confirmed; either way it leads no
      // stamp with its clock, which the writes below show.
    }
    assertWriteRefusedOrStampedInRealTime(jumped, "back");
    waitUntil(
        () -> !leaderOtherThan(jumped).isEmpty(),
        Duration.ofSeconds(30),
        "a leader whose clock agrees");
    pauseForTheRotationEngine();

    chaos(jumped, c -> c.reset(ResetRequest.getDefaultInstance()));
    waitUntil(this::everyClockSafe, Duration.ofSeconds(30), "every clock agrees again");
    assertUnchangedEverywhere();
    assertEquals(2, keyOn(jumped, "periodic").getVersionsCount(), "no rotation reissued");
    cluster.awaitConvergence();
  }

  /** The key "jump" as set up, on every node, evaluated at the cluster's real time. */
  private void assertUnchangedEverywhere() {
    cluster.awaitConvergence();
    for (String id : cluster.nodes.keySet()) {
      Key jump = keyOn(id, "jump");
      assertEquals(3, jump.getVersionsCount(), () -> id + ": no version added: " + jump);
      assertEquals(
          KeyVersionState.KEY_VERSION_STATE_DESTROY_SCHEDULED,
          jump.getVersions(0).getState(),
          () -> id + ": v1 not destroyed: " + jump);
      assertEquals(2, jump.getPrimaryVersion(), () -> id + ": v2 still primary: " + jump);
      assertEquals(
          KeyVersionState.KEY_VERSION_STATE_PENDING,
          jump.getVersions(2).getState(),
          () -> id + ": v3 still pending: " + jump);
      long asOf = jump.getAsOfTime().getSeconds() * 1000;
      assertTrue(
          Math.abs(asOf - System.currentTimeMillis()) < DAY_MILLIS,
          () -> id + ": served at real time, not a jumped clock's: " + jump.getAsOfTime());
      assertTrue(
          cluster.nodes.get(id).raft().state().lastCommandTimeMillis()
              < System.currentTimeMillis() + DAY_MILLIS,
          () -> id + ": cluster time did not jump");
    }
  }

  /**
   * A write through {@code jumped} right after its clock jumped: refused UNAVAILABLE CLOCK_UNSAFE
   * while it leads, or (once it handed over) stamped by a leader whose clock agrees.
   */
  private void assertWriteRefusedOrStampedInRealTime(String jumped, String direction) {
    String name = "probe-" + direction;
    try {
      Key created = cluster.keys(jumped).createKey(newKey(name));
      long activation = created.getVersions(0).getActivationTime().getSeconds() * 1000;
      assertTrue(
          Math.abs(activation - System.currentTimeMillis()) < DAY_MILLIS,
          () -> direction + ": stamped at real time: " + created);
    } catch (StatusRuntimeException e) {
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e::toString);
      assertTrue(
          List.of("CLOCK_UNSAFE", "NOT_LEADER", "NO_LEADER").contains(GrpcErrors.reason(e)),
          e::toString);
      if (GrpcErrors.reason(e).equals("CLOCK_UNSAFE")) {
        assertTrue(e.getStatus().getDescription().contains("clock"), e::toString);
        // Nothing reached the log.
        assertTrue(cluster.nodes.get(jumped).raft().state().key(name).isEmpty(), name);
      }
    }
  }

  private static void assertStampedInRealTime(RotateKeyResponse rotated, String what) {
    long activation = rotated.getActivationTime().getSeconds() * 1000;
    assertTrue(
        Math.abs(activation - System.currentTimeMillis()) < DAY_MILLIS,
        () -> what + ": stamped at real time: " + rotated);
  }

  private boolean everyClockSafe() {
    for (String id : cluster.nodes.keySet()) {
      NodeStatus status = cluster.admin(id).getNodeStatus(statusRequest());
      if (!status.getClock().getState().equals("SAFE")
          || status.getClock().getPeersList().stream().anyMatch(p -> !p.getMeasured())) {
        return false;
      }
    }
    return true;
  }

  /** The ready leader if it is not {@code id}, else "". */
  private String leaderOtherThan(String id) {
    return cluster.nodes.entrySet().stream()
        .filter(e -> !e.getKey().equals(id) && e.getValue().raft().isReadyLeader())
        .map(java.util.Map.Entry::getKey)
        .findFirst()
        .orElse("");
  }

  private Key keyOn(String id, String name) {
    return cluster.keys(id).getKey(key(name));
  }

  /**
   * Gives every node's rotation engine (a sweep every 250 ms) a few seconds to act: it may only
   * hide a regression (nothing happened yet), never fail a correct cluster.
   */
  private static void pauseForTheRotationEngine() throws InterruptedException {
    Thread.sleep(2_000);
  }

  private static GetNodeStatusRequest statusRequest() {
    return GetNodeStatusRequest.getDefaultInstance();
  }

  private void setOffset(String id, long offsetMillis) {
    chaos(
        id,
        c ->
            c.setClockOffset(
                SetClockOffsetRequest.newBuilder().setOffsetMillis(offsetMillis).build()));
  }

  private void chaos(
      String id, java.util.function.Consumer<ChaosServiceGrpc.ChaosServiceBlockingStub> call) {
    ManagedChannel channel = TestTls.adminChannel(cluster.directory, cluster.apiAddress(id));
    try {
      call.accept(
          ChaosServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS));
    } finally {
      channel.shutdownNow();
    }
  }
}
