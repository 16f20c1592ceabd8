package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.decryption;
import static io.keyrotor.server.KeyRequests.encryption;
import static io.keyrotor.server.KeyRequests.key;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.seconds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.consensus.testing.Replicas;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Encryption limits on a real 3-node cluster: nodes reserve blocks of 10 encryptions (a fixed size:
 * {@code usage.reservation-period=0s}) through the log before they encrypt, never encrypt past a
 * version's limit, move to the next version once it is active, refuse with RESOURCE_EXHAUSTED when
 * none is, count a block a restarted node did not use up as used, and rotate ahead of the limit.
 * Every wait is for a condition, bounded.
 */
class EncryptionLimitIT extends ClusterTestBase {
  private static final int BLOCK = 10;

  EncryptionLimitIT() {
    super(
        List.of("local"),
        Map.of("usage.reservation-block", "" + BLOCK, "usage.reservation-period", "0s"));
  }

  private Key get(String name) {
    return cluster.keys(cluster.leaderId()).getKey(key(name));
  }

  private EncryptResponse encrypt(String node, String name, String plaintext) {
    return cluster.keys(node).encrypt(encryption(name, plaintext));
  }

  private Key awaitKey(String name, Predicate<Key> condition, String what) {
    Key[] last = new Key[1];
    Replicas.waitUntil(
        () -> {
          last[0] = get(name);
          return condition.test(last[0]);
        },
        Duration.ofSeconds(30),
        what);
    return last[0];
  }

  @Test
  void pastTheLimit_theNodeMovesToTheNextVersion_andNoVersionExceedsItsLimit() {
    String name = unique("moves");
    String leader = cluster.leaderId();
    cluster.keys(leader).createKey(newKey(name, RotationPolicy.newBuilder().setMaxEncryptions(30)));
    Map<Integer, Integer> perVersion = new HashMap<>();
    int refused = 0;
    for (int i = 0; perVersion.size() < 3 && i < 1_000; i++) {
      try {
        EncryptResponse sealed = encrypt(leader, name, "payload " + i);
        perVersion.merge(sealed.getKeyVersion(), 1, Integer::sum);
        var unused = cluster.keys(leader).decrypt(decryption(sealed.getCiphertext()));
      } catch (StatusRuntimeException e) {
        // Only while the next version is not active yet, and only for the limit.
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
        assertEquals("ENCRYPTION_LIMIT_REACHED", GrpcErrors.reason(e));
        refused++;
      }
    }

    assertTrue(perVersion.size() >= 3, "encryptions moved on to newer versions: " + perVersion);
    Key key = get(name);
    for (KeyVersion version : key.getVersionsList()) {
      assertEquals(30, version.getEncryptionLimit());
      assertTrue(
          version.getEncryptions() <= 30,
          "version " + version.getVersion() + " reserved past its limit: " + key);
      assertTrue(
          perVersion.getOrDefault(version.getVersion(), 0) <= version.getEncryptions(),
          "every encryption was reserved first: " + perVersion + " " + key);
    }
    for (int v = 1; v <= 2; v++) {
      assertEquals(
          RotationReason.ROTATION_REASON_USAGE, key.getVersions(v).getRotationReason(), "" + key);
    }
    assertTrue(refused < 1_000, "some encryptions were served");
  }

  @Test
  void atTheLimitWithTheNextVersionPending_refusedResourceExhaustedWithWhenToRetry() {
    String name = unique("refuses");
    String leader = cluster.leaderId();
    cluster
        .keys(leader)
        .createKey(
            newKey(
                    name,
                    RotationPolicy.newBuilder()
                        .setMaxEncryptions(30)
                        .setActivationDelay(seconds(3_600)))
                .toBuilder()
                .setActivationDelay(seconds(0))
                .build());

    for (int i = 0; i < 30; i++) {
      var unused =
          cluster
              .keys(leader)
              .generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName(name).build());
    }
    StatusRuntimeException refused =
        assertThrows(StatusRuntimeException.class, () -> encrypt(leader, name, "one too many"));

    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
    assertEquals("ENCRYPTION_LIMIT_REACHED", GrpcErrors.reason(refused));
    assertEquals("1", GrpcErrors.metadata(refused).get("version"));
    assertTrue(refused.getStatus().getDescription().contains("limit of 30"), refused.toString());
    Key key = awaitKey(name, k -> k.getVersionsCount() == 2, "the usage rotation, pending 1 h");
    assertEquals(30, key.getVersions(0).getEncryptions(), "exactly the limit: " + key);
    assertEquals(RotationReason.ROTATION_REASON_USAGE, key.getVersions(1).getRotationReason());
    // Once the pending version is there, the refusal says when to come back.
    StatusRuntimeException later =
        assertThrows(StatusRuntimeException.class, () -> encrypt(leader, name, "later"));
    RetryInfo retry = retryInfo(later);
    assertTrue(retry.getRetryDelay().getSeconds() > 3_000, later.toString());
    assertEquals(30, get(name).getVersions(0).getEncryptions(), "refusals reserve nothing");
  }

  private static RetryInfo retryInfo(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    for (com.google.protobuf.Any detail : status.getDetailsList()) {
      if (detail.is(RetryInfo.class)) {
        try {
          return detail.unpack(RetryInfo.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException bad) {
          throw new AssertionError(bad);
        }
      }
    }
    throw new AssertionError("no RetryInfo in " + status);
  }

  @Test
  void aRestartedNode_leavesItsUnusedBlockCountedAsUsed_andNeverReusesIt() throws Exception {
    String name = unique("restart");
    String leader = cluster.leaderId();
    cluster.keys(leader).createKey(newKey(name));
    for (int i = 0; i < 3; i++) {
      encrypt(leader, name, "before " + i);
    }
    assertEquals(BLOCK, get(name).getVersions(0).getEncryptions(), "one block, 3 of it used");

    cluster.stop(leader);
    cluster.start(leader);
    cluster.awaitConvergence();
    assertEquals(BLOCK, get(name).getVersions(0).getEncryptions(), "the whole block stays counted");
    String node = cluster.leaderId();
    encrypt(node, name, "after");

    // The restarted node (or the new leader) reserved a new block instead of using the 7 left.
    assertEquals(2 * BLOCK, get(name).getVersions(0).getEncryptions());
  }

  @Test
  void aUsageRotation_comesAheadOfTheLimit() {
    String name = unique("ahead");
    String leader = cluster.leaderId();
    cluster
        .keys(leader)
        .createKey(newKey(name, RotationPolicy.newBuilder().setMaxEncryptions(1_000)));

    for (int i = 0; i < 5; i++) {
      encrypt(leader, name, "payload " + i);
    }
    // One block of 10 in a second is 10 per second: over twice the 1 minute lead that is 1,200,
    // more than the 990 left, so the engine rotates now, long before the limit.
    Key key = awaitKey(name, k -> k.getVersionsCount() == 2, "a usage rotation");

    assertEquals(RotationReason.ROTATION_REASON_USAGE, key.getVersions(1).getRotationReason());
    assertTrue(key.getVersions(0).getEncryptions() <= 2 * BLOCK, key.toString());
    assertEquals(2, encrypt(leader, name, "on the new version").getKeyVersion());
  }
}
