package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.chaos.v1.ChaosServiceGrpc;
import io.keyrotor.api.chaos.v1.ChaosState;
import io.keyrotor.api.chaos.v1.GetChaosStateRequest;
import io.keyrotor.api.chaos.v1.ResetRequest;
import io.keyrotor.api.chaos.v1.SetClockOffsetRequest;
import io.keyrotor.api.chaos.v1.SetClockRateRequest;
import io.keyrotor.api.chaos.v1.SetRpcDelayRequest;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
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

  private LocalTestCluster cluster(boolean chaos) throws Exception {
    LocalTestCluster cluster = new LocalTestCluster(directory.resolve("c"), 1, List.of("local"));
    if (chaos) {
      Files.writeString(
          directory.resolve("c/n1/node.properties"),
          "chaos.enabled=true\n",
          StandardOpenOption.APPEND);
    }
    cluster.startAll();
    return cluster;
  }

  private static ManagedChannel channel(LocalTestCluster cluster) {
    return ManagedChannelBuilder.forTarget(cluster.apiAddress("n1")).usePlaintext().build();
  }

  private static ChaosServiceGrpc.ChaosServiceBlockingStub chaos(ManagedChannel channel) {
    return ChaosServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @Test
  void chaosModeOff_serviceNotRegistered_unimplemented() throws Exception {
    try (LocalTestCluster cluster = cluster(false)) {
      ManagedChannel channel = channel(cluster);
      try {
        StatusRuntimeException e =
            assertThrows(
                StatusRuntimeException.class,
                () ->
                    chaos(channel)
                        .setClockOffset(
                            SetClockOffsetRequest.newBuilder().setOffsetMillis(HOUR).build()));
        assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
        assertThrows(
            StatusRuntimeException.class,
            () -> chaos(channel).reset(ResetRequest.getDefaultInstance()));
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void clockOffset_stampsActivationTimesAndEvaluatesStates_resetRestoresRealTime()
      throws Exception {
    try (LocalTestCluster cluster = cluster(true)) {
      ManagedChannel channel = channel(cluster);
      try {
        cluster.keys("n1").createKey(CreateKeyRequest.newBuilder().setName("k").build());
        ChaosState bumped =
            chaos(channel)
                .setClockOffset(SetClockOffsetRequest.newBuilder().setOffsetMillis(HOUR).build());
        assertTrue(Math.abs(bumped.getClockOffsetMillis() - HOUR) < 1_000, bumped::toString);

        RotateKeyResponse rotated =
            cluster.keys("n1").rotateKey(RotateKeyRequest.newBuilder().setName("k").build());
        long now = System.currentTimeMillis();
        long activation = rotated.getActivationTime().getSeconds() * 1000;
        assertTrue(
            Math.abs(activation - (now + HOUR)) < 60_000,
            "the leader stamps with its skewed clock: " + rotated.getActivationTime());
        Key read = cluster.keys("n1").getKey(GetKeyRequest.newBuilder().setName("k").build());
        assertTrue(Math.abs(read.getAsOfTime().getSeconds() * 1000 - (now + HOUR)) < 60_000);
        assertEquals(2, read.getPrimaryVersion(), "evaluated at the node's (skewed) time");

        ChaosState reset = chaos(channel).reset(ResetRequest.getDefaultInstance());
        assertTrue(Math.abs(reset.getClockOffsetMillis()) < 1_000, reset::toString);
        assertEquals(1.0, reset.getClockRate());
        Key after = cluster.keys("n1").getKey(GetKeyRequest.newBuilder().setName("k").build());
        // Back on real time, states are still evaluated no earlier than the last applied
        // command's (skewed, replicated) time, so the rotation stays primary.
        assertTrue(after.getAsOfTime().getSeconds() * 1000 >= activation - 1_000, after::toString);
        assertEquals(2, after.getPrimaryVersion());
      } finally {
        channel.shutdownNow();
      }
    }
  }

  /**
   * Regression (found by the chaos suite, W2 under clock strobes): a rotation stamped by a leader
   * whose clock ran ahead stayed PENDING on nodes whose clock is behind, so GetKey (and encrypt)
   * served the previous primary after the rotation was acknowledged.
   */
  @Test
  void nodeClockBehindTheLeadersStamp_rotationIsPrimaryAtOnce() throws Exception {
    try (LocalTestCluster cluster = cluster(true)) {
      ManagedChannel channel = channel(cluster);
      try {
        cluster.keys("n1").createKey(CreateKeyRequest.newBuilder().setName("skew").build());
        chaos(channel)
            .setClockOffset(SetClockOffsetRequest.newBuilder().setOffsetMillis(HOUR).build());
        RotateKeyResponse rotated =
            cluster
                .keys("n1")
                .rotateKey(
                    RotateKeyRequest.newBuilder()
                        .setName("skew")
                        .setActivationDelay(com.google.protobuf.Duration.getDefaultInstance())
                        .build());
        assertEquals(2, rotated.getNewVersion());
        // The clock falls back an hour (NTP step, a strobe): the rotation stays in effect.
        chaos(channel)
            .setClockOffset(SetClockOffsetRequest.newBuilder().setOffsetMillis(0).build());
        Key read = cluster.keys("n1").getKey(GetKeyRequest.newBuilder().setName("skew").build());
        assertEquals(2, read.getPrimaryVersion(), read::toString);
        assertEquals(
            io.keyrotor.api.v1.KeyVersionState.KEY_VERSION_STATE_PRIMARY,
            read.getVersions(1).getState());
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void clockRateAndRpcDelay_reportedInState_invalidValuesRejected() throws Exception {
    try (LocalTestCluster cluster = cluster(true)) {
      ManagedChannel channel = channel(cluster);
      try {
        StatusRuntimeException invalid =
            assertThrows(
                StatusRuntimeException.class,
                () -> chaos(channel).setClockRate(SetClockRateRequest.newBuilder().build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, invalid.getStatus().getCode());

        chaos(channel).setClockRate(SetClockRateRequest.newBuilder().setRate(3.0).build());
        Thread.sleep(600);
        ChaosState fast = chaos(channel).getChaosState(GetChaosStateRequest.getDefaultInstance());
        assertEquals(3.0, fast.getClockRate());
        assertTrue(fast.getClockOffsetMillis() >= 600, fast::toString);

        ChaosState delayed =
            chaos(channel)
                .setRpcDelay(
                    SetRpcDelayRequest.newBuilder().setDelayMillis(20).setJitterMillis(5).build());
        assertEquals(20, delayed.getRpcDelayMillis());
        assertEquals(5, delayed.getRpcJitterMillis());
        assertEquals(
            Status.Code.INVALID_ARGUMENT,
            assertThrows(
                    StatusRuntimeException.class,
                    () ->
                        chaos(channel)
                            .setRpcDelay(
                                SetRpcDelayRequest.newBuilder().setDelayMillis(600_000).build()))
                .getStatus()
                .getCode());
        // The node keeps serving writes with the delay in place.
        cluster.keys("n1").createKey(CreateKeyRequest.newBuilder().setName("d").build());

        ChaosState reset = chaos(channel).reset(ResetRequest.getDefaultInstance());
        assertEquals(0, reset.getRpcDelayMillis());
        assertEquals(1.0, reset.getClockRate());
      } finally {
        channel.shutdownNow();
      }
    }
  }
}
