package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ChannelCredentials;
import io.grpc.Status;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.KeyrotorException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Java SDK against real nodes (a 3-node {@link LocalTestCluster} over mutual TLS): after the
 * leader stops, the client's next calls reach the new leader through its failover, NO_LEADER polls
 * and NOT_LEADER hints without giving up; and an idempotent read whose first node never answers (a
 * black-holed address) is answered by the hedge on another node, where the unhedged read spends its
 * whole deadline on that node.
 */
class SdkFailoverIT extends ClusterTestBase {
  private static final Map<String, String> CONTEXT = Map.of("tenant", "failover");

  SdkFailoverIT() {
    super(List.of("local"), Map.of());
  }

  private KeyrotorClient.Builder client(List<String> endpoints) {
    ChannelCredentials admin = cluster.credentialsAs("admin");
    return KeyrotorClient.builder().endpoints(endpoints).channelCredentials(admin);
  }

  private List<String> apiAddresses(List<String> ids) {
    return ids.stream().map(cluster::apiAddress).toList();
  }

  @Test
  void leaderStops_nextCallsReachNewLeader_withShortPollsAndHints() throws Exception {
    String oldLeader = cluster.leaderId();
    List<String> everyNode = new ArrayList<>(List.of(oldLeader));
    everyNode.addAll(cluster.followerIds());
    String key = unique("failover");
    GenerateDataKeyResponse dataKey;
    try (KeyrotorClient sdk =
        client(apiAddresses(everyNode))
            .deadline(Duration.ofSeconds(90))
            .attemptTimeout(Duration.ofSeconds(20))
            .build()) {
      sdk.createKey(CreateKeyRequest.newBuilder().setName(key).build());
      dataKey =
          sdk.generateDataKey(
              GenerateDataKeyRequest.newBuilder().setKeyName(key).putAllContext(CONTEXT).build());

      cluster.stop(oldLeader);

      // The first calls after the leader stopped: a write and a hedgeable data-plane read.
      String second = unique("failover");
      assertEquals(
          second, sdk.createKey(CreateKeyRequest.newBuilder().setName(second).build()).getName());
      assertArrayEquals(
          dataKey.getPlaintext().toByteArray(),
          sdk.decrypt(decryptOf(dataKey)).getPlaintext().toByteArray());
      // Both calls succeeded within their deadline: the client did not give up. (That NO_LEADER
      // waits stop growing at the poll ceiling is HedgedReadsTest's, on scripted answers: here a
      // write forwarded during the election may also time out as NO_QUORUM, which backs off.)
      assertTrue(
          sdk.knownLeader().map(a -> !a.equals(cluster.apiAddress(oldLeader))).orElse(true),
          "the stopped leader is forgotten: " + sdk.knownLeader());
    }

    String newLeader = cluster.leaderId();
    assertNotEquals(oldLeader, newLeader);
    // A client that lists the stopped node and the new leader's follower first, and never asks for
    // cluster status: the follower's NOT_LEADER answer names the new leader, and it follows that.
    List<String> followerFirst = new ArrayList<>(List.of(oldLeader));
    followerFirst.addAll(cluster.followerIds());
    followerFirst.add(newLeader);
    try (KeyrotorClient sdk =
        client(apiAddresses(followerFirst))
            .deadline(Duration.ofSeconds(60))
            .attemptTimeout(Duration.ofSeconds(20))
            .leaderDiscovery(false)
            .hedgeReadsAfter(Duration.ZERO)
            .build()) {
      assertArrayEquals(
          dataKey.getPlaintext().toByteArray(),
          sdk.decrypt(decryptOf(dataKey)).getPlaintext().toByteArray());
      assertEquals(cluster.apiAddress(newLeader), sdk.knownLeader().orElseThrow());
    } finally {
      cluster.start(oldLeader);
      cluster.awaitRegistered();
    }
  }

  @Test
  void readWhoseNodeNeverAnswers_isAnsweredByTheHedge_unhedgedSpendsItsDeadline() throws Exception {
    String key = unique("hedge");
    cluster.keys(cluster.leaderId()).createKey(CreateKeyRequest.newBuilder().setName(key).build());
    try (ServerSocket blackHole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // Connections complete in the kernel's backlog and then nothing is ever said: a host that
      // went away without closing anything, as far as the client can tell.
      String silent = "127.0.0.1:" + blackHole.getLocalPort();
      List<String> endpoints = new ArrayList<>(List.of(silent));
      endpoints.addAll(apiAddresses(List.of("n1", "n2", "n3")));
      // One attempt may take the whole deadline: without a hedge the read is stuck on the silent
      // address until the deadline.
      try (KeyrotorClient hedged =
          client(endpoints)
              .deadline(Duration.ofSeconds(30))
              .attemptTimeout(Duration.ofSeconds(30))
              .leaderDiscovery(false)
              .hedgeReadsAfter(Duration.ofMillis(100))
              .build()) {
        assertEquals(key, hedged.getKey(key).getName());
      }
      try (KeyrotorClient unhedged =
          client(endpoints)
              .deadline(Duration.ofSeconds(3))
              .attemptTimeout(Duration.ofSeconds(3))
              .leaderDiscovery(false)
              .hedgeReadsAfter(Duration.ZERO)
              .build()) {
        KeyrotorException error = assertThrows(KeyrotorException.class, () -> unhedged.getKey(key));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, error.code(), error.getMessage());
      }
    }
  }

  private static DecryptRequest decryptOf(GenerateDataKeyResponse dataKey) {
    return DecryptRequest.newBuilder()
        .setCiphertext(dataKey.getWrappedDataKey())
        .putAllContext(CONTEXT)
        .build();
  }
}
