package io.keyrotor.chaos.nemesis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * How long the membership nemesis lets a joining node take to start, catch up and prove, and how it
 * waits for the cluster version that lets nodes accept membership changes.
 */
class MembershipChangesTest {
  @Test
  void joinWait_quietMachine_isTheMinimum() {
    assertEquals(
        MembershipChanges.MIN_WAIT_SECONDS, MembershipChanges.joinWaitSeconds(Duration.ZERO));
  }

  @Test
  void joinWait_nodesTookMinutesToStart_coversAJoinersStartAndItsCatchUp() {
    // The first recorded membership run: the first group answered 157 s after its start, so a
    // joiner started just before AddNode could not even answer within a fixed 90 s wait.
    Duration started = Duration.ofSeconds(157);
    int wait = MembershipChanges.joinWaitSeconds(started);
    assertTrue(wait >= 2 * started.toSeconds(), "wait " + wait + " s");
  }

  /**
   * Membership moves wait for the cluster version that lets nodes accept them, read from a node's
   * status over real gRPC: "not yet" while it is 1, yes once a node reports 2, and not asked again.
   */
  @Test
  void membershipVersion_notYetAtOne_yesOnceANodeReportsTwo_thenNotAskedAgain() throws Exception {
    AtomicInteger version = new AtomicInteger(1);
    AtomicInteger asked = new AtomicInteger();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .addService(
                new AdminServiceGrpc.AdminServiceImplBase() {
                  @Override
                  public void getNodeStatus(
                      GetNodeStatusRequest request, StreamObserver<NodeStatus> response) {
                    asked.incrementAndGet();
                    response.onNext(
                        NodeStatus.newBuilder()
                            .setId("n1")
                            .setActiveClusterVersion(version.get())
                            .build());
                    response.onCompleted();
                  }
                })
            .build()
            .start();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    try {
      MembershipChanges changes =
          new MembershipChanges(
              new NemesisTest.FakeLauncher(3), new ClusterControl(Map.of("n1", channel)));
      assertFalse(changes.awaitMembershipVersion(() -> false, 1), "at version 1: not yet");
      int[] polls = {0};
      assertTrue(
          changes.awaitMembershipVersion(
              () -> {
                if (++polls[0] == 3) {
                  version.set(MembershipChanges.MEMBERSHIP_VERSION);
                }
                return polls[0] < 100;
              },
              1),
          "version 2 seen while waiting");
      int before = asked.get();
      assertTrue(changes.awaitMembershipVersion(() -> false, 1));
      assertEquals(before, asked.get(), "not asked again once seen");
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  @Test
  void joinWait_neverBeyondWhatAddNodeAccepts() {
    assertEquals(
        MembershipChanges.MAX_WAIT_SECONDS,
        MembershipChanges.joinWaitSeconds(Duration.ofMinutes(30)));
  }
}
