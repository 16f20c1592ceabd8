package io.keyrotor.server;

import static io.keyrotor.server.GrpcErrors.metadata;
import static io.keyrotor.server.GrpcErrors.reason;
import static io.keyrotor.server.KeyRequests.decryption;
import static io.keyrotor.server.KeyRequests.encryption;
import static io.keyrotor.server.KeyRequests.key;
import static io.keyrotor.server.KeyRequests.newKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.proto.internal.v1.NodeRecord;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code reads.follower=redirect} (the default, also set explicitly here): followers send
 * data-plane calls to the leader with a NOT_LEADER hint, except for keys of zones the leader does
 * not hold, which they serve through ReadIndex.
 */
class FollowerReadsIT extends ClusterTestBase {
  FollowerReadsIT() {
    super(List.of("eu", "us"), Map.of("reads.follower", "redirect"));
  }

  private String createKey(String zone) {
    String name = unique("fr");
    cluster.createKey(name, zone);
    return name;
  }

  private static EncryptRequest encrypt(String key) {
    return encryption(key, "redirected");
  }

  @Test
  void follower_redirectsToTheLeaderWithItsAddress() {
    String key = createKey("default");
    cluster.awaitConvergence(); // the follower knows the key, so it knows the leader can serve it
    String leader = cluster.leaderId();
    String follower = cluster.followerIds().get(0);

    StatusRuntimeException redirected =
        assertThrows(
            StatusRuntimeException.class, () -> cluster.keys(follower).encrypt(encrypt(key)));

    assertEquals(Status.Code.UNAVAILABLE, redirected.getStatus().getCode());
    assertEquals("NOT_LEADER", reason(redirected));
    assertEquals(cluster.apiAddress(leader), metadata(redirected).get("leader"));
    ByteString sealed = cluster.keys(leader).encrypt(encrypt(key)).getCiphertext();
    RetryingCaller client = new RetryingCaller(cluster);
    assertEquals(
        "redirected",
        client.call(k -> k.decrypt(decryption(sealed))).getPlaintext().toStringUtf8());
    // Other reads are not data-plane calls: followers still serve them.
    assertEquals(key, cluster.keys(follower).getKey(key(key)).getName());
  }

  @Test
  void follower_servesAKeyItDoesNotKnowYetItself() {
    // Created through the leader and asked of a follower at once: whether or not the follower has
    // applied the creation, the answer is never a bounce to a leader that cannot serve it.
    String leader = cluster.leaderId();
    for (String follower : cluster.followerIds()) {
      String name = unique("fr");
      cluster.keys(leader).createKey(newKey(name));
      try {
        cluster.keys(follower).encrypt(encrypt(name));
      } catch (StatusRuntimeException e) {
        assertEquals("NOT_LEADER", reason(e), "only a redirect, once the follower knows it");
      }
    }
  }

  @Test
  void follower_servesZonesTheLeaderDoesNotHold() {
    String leader = cluster.leaderId();
    NodeRecord leaderRecord = cluster.nodes.get(leader).raft().state().nodes().get(leader);
    // n1 and n3 hold eu, n2 holds us: whichever leads, one of these zones is follower-only.
    String zone = leaderRecord.getZonesList().contains("eu") ? "us" : "eu";
    String holder = zone.equals("us") ? "n2" : "n1";
    String key = createKey(zone);

    ByteString sealed = cluster.keys(holder).encrypt(encrypt(key)).getCiphertext();

    assertEquals(
        "redirected",
        cluster.keys(holder).decrypt(decryption(sealed)).getPlaintext().toStringUtf8());
    StatusRuntimeException atLeader =
        assertThrows(
            StatusRuntimeException.class, () -> cluster.keys(leader).decrypt(decryption(sealed)));
    assertEquals("ZONE_NOT_HELD", reason(atLeader));
  }
}
