package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.key;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.rotation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.chaos.v1.ChaosServiceGrpc;
import io.keyrotor.api.chaos.v1.ChaosState;
import io.keyrotor.api.chaos.v1.GetChaosStateRequest;
import io.keyrotor.api.chaos.v1.ResetRequest;
import io.keyrotor.api.chaos.v1.SetClockOffsetRequest;
import io.keyrotor.api.chaos.v1.SetClockRateRequest;
import io.keyrotor.api.chaos.v1.SetRpcDelayRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.server.chaos.ChaosServiceImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos hook: absent (UNIMPLEMENTED) unless the node config says chaos.enabled=true; with it,
 * clock offsets reach the leader's command stamps and the version states a node serves.
 */
class ChaosHookIT {
  private static final long HOUR = 3_600_000;

  @TempDir Path directory;

  /** A one-node cluster and a channel to its API; closing closes both. */
  private record OneNode(LocalTestCluster cluster, ManagedChannel channel)
      implements AutoCloseable {
    KeyServiceGrpc.KeyServiceBlockingStub keys() {
      return cluster.keys("n1");
    }

    ChaosServiceGrpc.ChaosServiceBlockingStub chaos() {
      return chaos(channel);
    }

    /** Calls through {@code over}, e.g. a channel presenting another principal's certificate. */
    ChaosServiceGrpc.ChaosServiceBlockingStub chaos(io.grpc.Channel over) {
      return ChaosServiceGrpc.newBlockingStub(over).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      channel.shutdownNow();
      cluster.close();
    }
  }

  private OneNode node(boolean chaos) throws Exception {
    LocalTestCluster cluster = new LocalTestCluster(directory.resolve("c"), 1, List.of("local"));
    if (chaos) {
      Files.writeString(
          directory.resolve("c/n1/node.properties"),
          "chaos.enabled=true\nchaos.test-cluster=true\n",
          StandardOpenOption.APPEND);
    }
    cluster.startAll();
    return new OneNode(cluster, TestTls.adminChannel(cluster.directory, cluster.apiAddress("n1")));
  }

  @Test
  void chaosMode_onlyForAdministrators_offsetsBounded() throws Exception {
    try (OneNode node = node(true)) {
      StatusRuntimeException notAdmin =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  node.chaos(node.cluster().channelAs("n1", "service"))
                      .setClockOffset(
                          SetClockOffsetRequest.newBuilder().setOffsetMillis(HOUR).build()));
      assertEquals(Status.Code.PERMISSION_DENIED, notAdmin.getStatus().getCode());
      StatusRuntimeException nobody =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  node.chaos(node.cluster().channelWithoutCertificate("n1"))
                      .getChaosState(GetChaosStateRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAUTHENTICATED, nobody.getStatus().getCode());
      StatusRuntimeException tooFar =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  node.chaos()
                      .setClockOffset(
                          SetClockOffsetRequest.newBuilder()
                              .setOffsetMillis(ChaosServiceImpl.MAX_CLOCK_OFFSET_MILLIS + 1)
                              .build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, tooFar.getStatus().getCode());
      ChaosState state = node.chaos().getChaosState(GetChaosStateRequest.getDefaultInstance());
      assertTrue(Math.abs(state.getClockOffsetMillis()) < 1_000, "nothing was skewed");
    }
  }

  @Test
  void chaosModeWithoutTestClusterFlag_nodeRefusesToStart() throws Exception {
    LocalTestCluster cluster = new LocalTestCluster(directory.resolve("p"), 1, List.of("local"));
    try {
      cluster.configure("n1", "chaos.enabled", "true");
      KeyrotorNode.StartupException refused =
          assertThrows(KeyrotorNode.StartupException.class, () -> cluster.start("n1"));
      assertTrue(refused.getMessage().contains("chaos.test-cluster=true"), refused.getMessage());
    } finally {
      cluster.close();
    }
  }

  @Test
  void chaosModeOff_serviceNotRegistered_unimplemented() throws Exception {
    try (OneNode node = node(false)) {
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  node.chaos()
                      .setClockOffset(
                          SetClockOffsetRequest.newBuilder().setOffsetMillis(HOUR).build()));
      assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
      assertThrows(
          StatusRuntimeException.class,
          () -> node.chaos().reset(ResetRequest.getDefaultInstance()));
    }
  }

  @Test
  void clockOffset_stampsActivationTimesAndEvaluatesStates_resetRestoresRealTime()
      throws Exception {
    try (OneNode node = node(true)) {
      node.keys().createKey(newKey("k"));
      ChaosState bumped =
          node.chaos()
              .setClockOffset(SetClockOffsetRequest.newBuilder().setOffsetMillis(HOUR).build());
      assertTrue(Math.abs(bumped.getClockOffsetMillis() - HOUR) < 1_000, bumped::toString);

      RotateKeyResponse rotated = node.keys().rotateKey(rotation("k"));
      long now = System.currentTimeMillis();
      long activation = rotated.getActivationTime().getSeconds() * 1000;
      assertTrue(
          Math.abs(activation - (now + HOUR)) < 60_000,
          "the leader stamps with its skewed clock: " + rotated.getActivationTime());
      Key read = node.keys().getKey(key("k"));
      assertTrue(Math.abs(read.getAsOfTime().getSeconds() * 1000 - (now + HOUR)) < 60_000);
      assertEquals(2, read.getPrimaryVersion(), "evaluated at the node's (skewed) time");

      ChaosState reset = node.chaos().reset(ResetRequest.getDefaultInstance());
      assertTrue(Math.abs(reset.getClockOffsetMillis()) < 1_000, reset::toString);
      assertEquals(1.0, reset.getClockRate());
      Key after = node.keys().getKey(key("k"));
      // Back on real time, states are still evaluated no earlier than the last applied
      // command's (skewed, replicated) time, so the rotation stays primary.
      assertTrue(after.getAsOfTime().getSeconds() * 1000 >= activation - 1_000, after::toString);
      assertEquals(2, after.getPrimaryVersion());
    }
  }

  /**
   * Regression (found by the chaos suite, W2 under clock strobes): a rotation stamped by a leader
   * whose clock ran ahead stayed PENDING on nodes whose clock is behind, so GetKey (and encrypt)
   * served the previous primary after the rotation was acknowledged.
   */
  @Test
  void nodeClockBehindTheLeadersStamp_rotationIsPrimaryAtOnce() throws Exception {
    try (OneNode node = node(true)) {
      node.keys().createKey(newKey("skew"));
      node.chaos().setClockOffset(SetClockOffsetRequest.newBuilder().setOffsetMillis(HOUR).build());
      RotateKeyResponse rotated = node.keys().rotateKey(rotation("skew", 0));
      assertEquals(2, rotated.getNewVersion());
      // The clock falls back an hour (NTP step, a strobe): the rotation stays in effect.
      node.chaos().setClockOffset(SetClockOffsetRequest.newBuilder().setOffsetMillis(0).build());
      Key read = node.keys().getKey(key("skew"));
      assertEquals(2, read.getPrimaryVersion(), read::toString);
      assertEquals(
          io.keyrotor.api.v1.KeyVersionState.KEY_VERSION_STATE_PRIMARY,
          read.getVersions(1).getState());
    }
  }

  @Test
  void clockRateAndRpcDelay_reportedInState_invalidValuesRejected() throws Exception {
    try (OneNode node = node(true)) {
      StatusRuntimeException invalid =
          assertThrows(
              StatusRuntimeException.class,
              () -> node.chaos().setClockRate(SetClockRateRequest.newBuilder().build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, invalid.getStatus().getCode());

      node.chaos().setClockRate(SetClockRateRequest.newBuilder().setRate(3.0).build());
      Thread.sleep(600);
      ChaosState fast = node.chaos().getChaosState(GetChaosStateRequest.getDefaultInstance());
      assertEquals(3.0, fast.getClockRate());
      assertTrue(fast.getClockOffsetMillis() >= 600, fast::toString);

      ChaosState delayed =
          node.chaos()
              .setRpcDelay(
                  SetRpcDelayRequest.newBuilder().setDelayMillis(20).setJitterMillis(5).build());
      assertEquals(20, delayed.getRpcDelayMillis());
      assertEquals(5, delayed.getRpcJitterMillis());
      assertEquals(
          Status.Code.INVALID_ARGUMENT,
          assertThrows(
                  StatusRuntimeException.class,
                  () ->
                      node.chaos()
                          .setRpcDelay(
                              SetRpcDelayRequest.newBuilder().setDelayMillis(600_000).build()))
              .getStatus()
              .getCode());
      // The node keeps serving writes with the delay in place.
      node.keys().createKey(newKey("d"));

      ChaosState reset = node.chaos().reset(ResetRequest.getDefaultInstance());
      assertEquals(0, reset.getRpcDelayMillis());
      assertEquals(1.0, reset.getClockRate());
    }
  }
}
