package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.disable;
import static io.keyrotor.server.KeyRequests.enable;
import static io.keyrotor.server.KeyRequests.key;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.rotation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The key API over real gRPC against a real 3-node cluster in two regions. */
class KeyServiceIT extends ClusterTestBase {
  KeyServiceIT() {
    super(List.of("eu", "us"), Map.of());
  }

  @Test
  void lifecycle_createRotateDisableEnable_visibleOnEveryNode() {
    String name = unique("orders");
    String leader = cluster.leaderId();

    Key created =
        cluster
            .keys(leader)
            .createKey(
                CreateKeyRequest.newBuilder().setName(name).putLabels("team", "payments").build());
    assertEquals(1, created.getPrimaryVersion());
    assertEquals("default", created.getZone());
    assertEquals("AES_KEY_WRAP_PAD", created.getVersions(0).getWrapMechanism());

    RotateKeyResponse rotated = cluster.keys(leader).rotateKey(rotation(name));
    assertEquals(2, rotated.getNewVersion());
    assertEquals(2, rotated.getKey().getPrimaryVersion());
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, rotated.getKey().getVersions(0).getState());

    Key disabled = cluster.keys(leader).disableKeyVersion(disable(name, 1));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, disabled.getVersions(0).getState());

    for (String node : cluster.nodes.keySet()) {
      Key seen = cluster.keys(node).getKey(key(name));
      assertEquals(2, seen.getPrimaryVersion(), node);
      assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, seen.getVersions(0).getState());
      assertEquals(
          rotated.getActivationTime(), seen.getVersions(1).getActivationTime(), "same on " + node);
    }

    Key enabled = cluster.keys(leader).enableKeyVersion(enable(name, 1));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, enabled.getVersions(0).getState());
  }

  @Test
  void rotate_withActivationDelay_pendingUntilTheLeaderChosenTime() {
    String name = unique("delayed");
    String follower = cluster.followerIds().get(0);
    cluster.keys(follower).createKey(newKey(name));

    RotateKeyResponse rotated = cluster.keys(follower).rotateKey(rotation(name, 3600));

    assertEquals(1, rotated.getKey().getPrimaryVersion());
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_PENDING, rotated.getKey().getVersions(1).getState());
    long delaySeconds =
        rotated.getActivationTime().getSeconds()
            - rotated.getKey().getVersions(1).getCreateTime().getSeconds();
    assertTrue(delaySeconds >= 3599 && delaySeconds <= 3600, "activation = leader time + 1h");
  }

  @Test
  void writeOnFollower_forwardedAndReadableEverywhereAtOnce() {
    String follower = cluster.followerIds().get(0);
    for (int i = 0; i < 10; i++) {
      String name = unique("fwd");
      cluster.keys(follower).createKey(newKey(name));
      for (String node : cluster.nodes.keySet()) {
        // Linearizable: a read that starts after the write returned sees it, on any node.
        assertEquals(name, cluster.keys(node).getKey(key(name)).getName());
      }
    }
  }

  @Test
  void retriedCreate_sameRequestId_sameOutcomeNotAlreadyExists() {
    String name = unique("retried");
    CreateKeyRequest request =
        CreateKeyRequest.newBuilder()
            .setName(name)
            .setRequestId(UUID.randomUUID().toString())
            .build();

    Key first = cluster.keys(cluster.leaderId()).createKey(request);
    Key retried = cluster.keys(cluster.followerIds().get(1)).createKey(request);

    assertEquals(first.getName(), retried.getName());
    assertEquals(1, retried.getVersionsCount());
    StatusRuntimeException duplicate =
        assertThrows(
            StatusRuntimeException.class,
            () -> cluster.keys(cluster.leaderId()).createKey(newKey(name)));
    assertEquals(Status.Code.ALREADY_EXISTS, duplicate.getStatus().getCode());
    assertEquals("KEY_EXISTS", reason(duplicate));
  }

  @Test
  void listKeys_pagesByNameWithZoneAndLabelFilters() {
    String prefix = unique("list");
    for (int i = 0; i < 5; i++) {
      cluster
          .keys("n1") // in region eu: holds zones default and eu
          .createKey(
              CreateKeyRequest.newBuilder()
                  .setName(prefix + "-" + i)
                  .setZone(i % 2 == 0 ? "eu" : "default")
                  .putLabels("batch", prefix)
                  .build());
    }
    List<String> seen = new ArrayList<>();
    String token = "";
    do {
      ListKeysResponse page =
          cluster
              .keys("n2")
              .listKeys(
                  ListKeysRequest.newBuilder()
                      .setPageSize(2)
                      .setPageToken(token)
                      .putLabelSelector("batch", prefix)
                      .build());
      page.getKeysList().forEach(k -> seen.add(k.getName()));
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    assertEquals(seen.stream().sorted().toList(), seen, "name order");
    ListKeysResponse eu =
        cluster
            .keys("n1")
            .listKeys(
                ListKeysRequest.newBuilder()
                    .setZone("eu")
                    .putLabelSelector("batch", prefix)
                    .build());
    eu.getKeysList().forEach(k -> assertEquals("eu", k.getZone()));
    assertEquals(5, seen.size());
  }

  @Test
  void zoneResidency_nodeWithoutTheZoneRefusesAndNamesTheHolders() {
    // n1 and n3 are in region eu (zones default, eu); n2 is in us (default, us).
    StatusRuntimeException refused =
        assertThrows(
            StatusRuntimeException.class,
            () -> cluster.keys("n2").createKey(newKey(unique("eu"), "eu")));

    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
    assertEquals("ZONE_NOT_HELD", reason(refused));
    assertTrue(refused.getStatus().getDescription().contains("n1"), refused.getMessage());
    assertTrue(refused.getStatus().getDescription().contains("n3"), refused.getMessage());
    assertFalse(refused.getStatus().getDescription().contains("n2 ("), refused.getMessage());

    Key created = cluster.keys("n1").createKey(newKey(unique("eu"), "eu"));
    assertEquals("eu", created.getZone());
  }

  @Test
  void badInput_clearStatusAndNothingChanges() {
    String existing = unique("exists");
    String leader = cluster.leaderId();
    cluster.keys(leader).createKey(newKey(existing));
    cluster.awaitConvergence();
    NodeStatus before =
        cluster
            .admin(leader)
            .getNodeStatus(io.keyrotor.api.v1.GetNodeStatusRequest.getDefaultInstance());
    KeyServiceGrpc.KeyServiceBlockingStub keys = cluster.keys(leader);

    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_KEY_NAME",
        () -> keys.createKey(newKey("has space")));
    expect(Status.Code.INVALID_ARGUMENT, "INVALID_KEY_NAME", () -> keys.createKey(newKey("")));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_KEY_NAME",
        () -> keys.createKey(CreateKeyRequest.newBuilder().setName("x".repeat(200)).build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_ZONE",
        () -> keys.createKey(newKey("ok", "Bad Zone")));
    expect(Status.Code.NOT_FOUND, "ZONE_NOT_FOUND", () -> keys.createKey(newKey("ok", "mars")));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_LABEL",
        () ->
            keys.createKey(
                CreateKeyRequest.newBuilder().setName("ok").putLabels("Bad Key", "v").build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_LABEL",
        () ->
            keys.createKey(
                CreateKeyRequest.newBuilder()
                    .setName("ok")
                    .putLabels("k", "v".repeat(300))
                    .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_DURATION",
        () ->
            keys.createKey(
                CreateKeyRequest.newBuilder()
                    .setName("ok")
                    .setActivationDelay(Duration.newBuilder().setSeconds(-5))
                    .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_POLICY",
        () ->
            keys.createKey(
                CreateKeyRequest.newBuilder()
                    .setName("ok")
                    .setRotationPolicy(
                        RotationPolicy.newBuilder()
                            .setRotationPeriod(Duration.newBuilder().setSeconds(0)))
                    .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "UNKNOWN_TEMPLATE",
        () ->
            keys.createKey(
                CreateKeyRequest.newBuilder().setName("ok").setTemplate("nope").build()));
    expect(Status.Code.ALREADY_EXISTS, "KEY_EXISTS", () -> keys.createKey(newKey(existing)));
    expect(Status.Code.NOT_FOUND, "KEY_NOT_FOUND", () -> keys.getKey(key("missing-key")));
    expect(Status.Code.NOT_FOUND, "KEY_NOT_FOUND", () -> keys.rotateKey(rotation("missing-key")));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_VERSION",
        () ->
            keys.disableKeyVersion(
                DisableKeyVersionRequest.newBuilder().setName(existing).build()));
    expect(
        Status.Code.NOT_FOUND,
        "VERSION_NOT_FOUND",
        () -> keys.disableKeyVersion(disable(existing, 99)));
    expect(
        Status.Code.FAILED_PRECONDITION,
        "VERSION_IS_PRIMARY",
        () -> keys.disableKeyVersion(disable(existing, 1)));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_PAGE_SIZE",
        () -> keys.listKeys(ListKeysRequest.newBuilder().setPageSize(5000).build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
        () -> keys.listKeys(ListKeysRequest.newBuilder().setPageToken("garbage!").build()));
    expect(
        Status.Code.FAILED_PRECONDITION,
        "VERSION_CONFLICT",
        () ->
            keys.rotateKey(
                RotateKeyRequest.newBuilder()
                    .setName(existing)
                    .setExpectedLatestVersion(7)
                    .build()));
    expect(
        Status.Code.RESOURCE_EXHAUSTED,
        null,
        () ->
            keys.createKey(
                CreateKeyRequest.newBuilder()
                    .setName("big")
                    .putLabels("k", "v".repeat(5 << 20))
                    .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_CIPHERTEXT",
        () -> keys.decrypt(DecryptRequest.newBuilder().build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_DURATION",
        () ->
            keys.setRotationPolicy(
                SetRotationPolicyRequest.newBuilder()
                    .setName(existing)
                    .setRotationPolicy(
                        RotationPolicy.newBuilder()
                            .setDecryptGrace(Duration.newBuilder().setSeconds(-1)))
                    .build()));

    cluster.awaitConvergence();
    NodeStatus after =
        cluster
            .admin(leader)
            .getNodeStatus(io.keyrotor.api.v1.GetNodeStatusRequest.getDefaultInstance());
    // Rejected commands still take a log entry (and an audit record) when the state machine
    // decides them; input rejected before proposal must not. Only the three state-machine
    // rejections above (duplicate name, primary disable, version conflict, unknown version,
    // unknown rotate) may have reached the log.
    assertEquals(before.getKeyCount(), after.getKeyCount());
    assertTrue(
        after.getAppliedIndex() - before.getAppliedIndex() <= 5, "validation before proposal");
    Key unchanged = keys.getKey(key(existing));
    assertEquals(1, unchanged.getVersionsCount());
    assertEquals(1, unchanged.getPrimaryVersion());
  }

  @Test
  void compromiseRotation_newVersionPrimaryAtOnceAndOldDisabled() {
    String name = unique("breach");
    String leader = cluster.leaderId();
    cluster.keys(leader).createKey(newKey(name));

    RotateKeyResponse rotated =
        cluster
            .keys(leader)
            .rotateKey(
                RotateKeyRequest.newBuilder()
                    .setName(name)
                    .setReason(RotationReason.ROTATION_REASON_COMPROMISE)
                    .setActivationDelay(Duration.newBuilder().setSeconds(3600))
                    .build());

    assertEquals(2, rotated.getKey().getPrimaryVersion());
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_DISABLED, rotated.getKey().getVersions(0).getState());
  }

  @Test
  void clusterStatus_everyNodeWithRoleRegionZonesAndTheSameDigest() {
    cluster.keys(cluster.leaderId()).createKey(newKey(unique("s")));
    cluster.awaitConvergence();

    ClusterStatus status =
        cluster.admin("n3").getClusterStatus(GetClusterStatusRequest.getDefaultInstance());

    assertEquals(3, status.getNodesCount());
    assertEquals(cluster.leaderId(), status.getLeaderId());
    long leaders =
        status.getNodesList().stream()
            .filter(n -> n.getRole() == NodeRole.NODE_ROLE_LEADER)
            .count();
    assertEquals(1, leaders);
    String digest = status.getNodes(0).getStateDigest();
    for (NodeStatus node : status.getNodesList()) {
      assertEquals(digest, node.getStateDigest(), node.getId());
      assertEquals(status.getNodes(0).getAppliedIndex(), node.getAppliedIndex());
      assertTrue(node.getZonesList().contains("default"));
      assertEquals("software", node.getHsm().getKind());
      assertNotEquals("", node.getRegion());
    }
    assertEquals(List.of("default", "eu"), status.getNodes(0).getZonesList());
    assertEquals(List.of("default", "us"), status.getNodes(1).getZonesList());
  }

  private static void expect(Status.Code code, String reason, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::execute);
    assertEquals(code, e.getStatus().getCode(), e.getMessage());
    if (reason != null) {
      assertEquals(reason, reason(e), e.getMessage());
      assertFalse(e.getStatus().getDescription().isBlank());
    }
  }

  static String reason(StatusRuntimeException e) {
    String reason = GrpcErrors.reason(e);
    return reason.isEmpty() ? null : reason;
  }

  /** A call that may throw anything. */
  interface Executable {
    void execute() throws Exception;
  }
}
