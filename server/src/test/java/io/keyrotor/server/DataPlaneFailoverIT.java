package io.keyrotor.server;

import static io.keyrotor.server.GrpcErrors.reason;
import static io.keyrotor.server.KeyRequests.disable;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.rotation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.consensus.testing.Replicas;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The data plane through leader failures on a real 3-node cluster: a client keeps working through a
 * leader kill, and a deposed or isolated leader never serves a version that was disabled.
 */
class DataPlaneFailoverIT extends ClusterTestBase {
  private static final Map<String, String> CONTEXT = Map.of("purpose", "failover");

  private final List<String> stopped = new ArrayList<>();

  DataPlaneFailoverIT() {
    super(List.of("eu"), FOLLOWERS_READ_INDEX);
  }

  @AfterEach
  void restartStoppedNodes() throws Exception {
    for (String id : stopped) {
      cluster.start(id);
    }
    stopped.clear();
    cluster.awaitConvergence();
  }

  private void stop(String id) {
    cluster.stop(id);
    stopped.add(id);
  }

  private void restart(String id) throws Exception {
    cluster.start(id);
    stopped.remove(id);
  }

  private String createKey(RetryingCaller client) {
    String name = unique("fo");
    client.call(k -> k.createKey(newKey(name)));
    return name;
  }

  private static EncryptRequest encryptRequest(String key, String plaintext) {
    return EncryptRequest.newBuilder()
        .setKeyName(key)
        .setPlaintext(ByteString.copyFromUtf8(plaintext))
        .putAllContext(CONTEXT)
        .build();
  }

  /** Encrypts {@code plaintext} under {@code key} through {@code client}; the ciphertext. */
  private static ByteString encrypt(RetryingCaller client, String key, String plaintext) {
    return client.call(k -> k.encrypt(encryptRequest(key, plaintext))).getCiphertext();
  }

  private static DecryptRequest decryptRequest(ByteString ciphertext) {
    return DecryptRequest.newBuilder().setCiphertext(ciphertext).putAllContext(CONTEXT).build();
  }

  /** One ciphertext the client wrote, and what it holds. */
  private record Written(ByteString ciphertext, String plaintext) {}

  @Test
  void leaderKill_clientKeepsEncryptingAndDecrypting_zeroFailedDecrypts() throws Exception {
    RetryingCaller setup = new RetryingCaller(cluster);
    String key = createKey(setup);
    List<Written> written = new CopyOnWriteArrayList<>();
    List<String> failures = new CopyOnWriteArrayList<>();
    AtomicInteger decrypted = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();

    Thread client =
        new Thread(
            () -> {
              RetryingCaller caller = new RetryingCaller(cluster);
              Random random = new Random(42);
              for (int i = 0; i < 100_000 && !stop.get(); i++) {
                try {
                  String plaintext = "message " + i;
                  EncryptResponse sealed =
                      caller.call(k -> k.encrypt(encryptRequest(key, plaintext)));
                  written.add(new Written(sealed.getCiphertext(), plaintext));
                  Written earlier = written.get(random.nextInt(written.size()));
                  String back =
                      caller
                          .call(k -> k.decrypt(decryptRequest(earlier.ciphertext())))
                          .getPlaintext()
                          .toStringUtf8();
                  if (!back.equals(earlier.plaintext())) {
                    failures.add("decrypted " + back + " instead of " + earlier.plaintext());
                  }
                  decrypted.incrementAndGet();
                } catch (RuntimeException | AssertionError e) {
                  failures.add(e.toString());
                }
              }
            },
            "failover-client");
    client.start();
    try {
      Replicas.waitUntil(
          () -> decrypted.get() >= 50, Duration.ofSeconds(60), "calls before the kill");
      String leader = cluster.leaderId();
      int writtenBeforeKill = written.size();
      stop(leader);
      int decryptedAtKill = decrypted.get();
      Replicas.waitUntil(
          () -> decrypted.get() >= decryptedAtKill + 100,
          Duration.ofSeconds(90),
          "calls after the kill (through the new leader)");
      stop.set(true);
      client.join();

      assertEquals(List.of(), failures, "no call failed for good and no decrypt was wrong");
      assertTrue(!cluster.leaderId().equals(leader), "a new leader serves");
      for (Written w : written.subList(0, writtenBeforeKill)) {
        assertEquals(
            w.plaintext(),
            setup
                .call(k -> k.decrypt(decryptRequest(w.ciphertext())))
                .getPlaintext()
                .toStringUtf8());
      }
    } finally {
      stop.set(true);
      client.join();
    }
  }

  @Test
  void restartedOldLeader_neverUsesAVersionDisabledWhileItWasDown() throws Exception {
    RetryingCaller client = new RetryingCaller(cluster);
    String key = createKey(client);
    ByteString underV1 = encrypt(client, key, "v1 secret");
    client.call(k -> k.rotateKey(rotation(key)));
    cluster.awaitConvergence();
    for (String node : cluster.nodes.keySet()) {
      // Every node has used v1 (its KEK is cached everywhere). A node may answer UNAVAILABLE for
      // a moment after an earlier test restarted a peer (its Raft channel reconnects).
      assertEquals(List.of("OK"), lastOf(untilDefinitive(node, decryptRequest(underV1))), node);
    }

    String oldLeader = cluster.leaderId();
    stop(oldLeader);
    cluster.leaderId(); // the others elected a leader
    client.call(k -> k.disableKeyVersion(disable(key, 1)));

    // The old leader comes back with state from before the disable, and is asked at once; then
    // every node. Each may answer UNAVAILABLE while it catches up, never with the plaintext.
    restart(oldLeader);
    List<String> order = new ArrayList<>(List.of(oldLeader));
    cluster.nodes.keySet().stream().filter(n -> !n.equals(oldLeader)).forEach(order::add);
    for (String node : order) {
      List<String> outcomes = untilDefinitive(node, decryptRequest(underV1));
      String last = outcomes.get(outcomes.size() - 1);
      System.out.println(
          "after the restart of " + oldLeader + ", " + node + " answered " + outcomes);
      assertEquals("FAILED_PRECONDITION/VERSION_DISABLED", last, node + " answered " + outcomes);
    }
  }

  private static List<String> lastOf(List<String> outcomes) {
    return outcomes.subList(outcomes.size() - 1, outcomes.size());
  }

  /**
   * Asks {@code node} until it answers something other than UNAVAILABLE or a timeout; returns all
   * answers ("OK" or "CODE/REASON").
   */
  private List<String> untilDefinitive(String node, DecryptRequest request) {
    List<String> outcomes = new ArrayList<>();
    Replicas.waitUntil(
        () -> {
          try {
            cluster.keys(node, Duration.ofSeconds(5)).decrypt(request);
            outcomes.add("OK");
            return true;
          } catch (StatusRuntimeException e) {
            outcomes.add(e.getStatus().getCode() + "/" + reason(e));
            return e.getStatus().getCode() != Status.Code.UNAVAILABLE
                && e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED;
          }
        },
        Duration.ofSeconds(60),
        node + " to answer");
    return outcomes;
  }

  @Test
  void isolatedLeader_stopsServingOnceItsLeaseRanOut() throws Exception {
    RetryingCaller client = new RetryingCaller(cluster);
    String key = createKey(client);
    ByteString sealed = encrypt(client, key, "isolated");
    cluster.awaitConvergence();
    String leader = cluster.leaderId();
    assertEquals(
        "isolated",
        cluster.keys(leader).decrypt(decryptRequest(sealed)).getPlaintext().toStringUtf8());

    for (String follower : cluster.followerIds()) {
      stop(follower);
    }

    // It may serve until its lease (90 % of the minimum election timeout) runs out; after that,
    // it cannot confirm that no other leader exists, and must refuse.
    Replicas.waitUntil(
        () -> {
          try {
            cluster.keys(leader, Duration.ofSeconds(15)).decrypt(decryptRequest(sealed));
            return false;
          } catch (StatusRuntimeException e) {
            return true;
          }
        },
        Duration.ofSeconds(60),
        "the isolated leader to refuse");
    for (int i = 0; i < 3; i++) {
      StatusRuntimeException refused =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () -> cluster.keys(leader, Duration.ofSeconds(15)).decrypt(decryptRequest(sealed)));
      assertTrue(
          refused.getStatus().getCode() == Status.Code.UNAVAILABLE
              || refused.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED,
          refused.toString());
    }
  }
}
