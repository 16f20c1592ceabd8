package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.decryption;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.seconds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.CancelRotationRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.RollbackRotationRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.proto.internal.v1.AuditRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.function.Executable;

/**
 * The limits on what callers grow ({@code limits.*}), over gRPC with mutual TLS against a 3-node
 * cluster configured with small limits: each request beyond a limit gets its status and reason,
 * with the limit and the setting in the ErrorInfo, and takes no log entry (no audit record carries
 * its request id, and no command of the kind refused was applied meanwhile).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LimitsIT extends ClusterTestBase {
  private static final int KEYS_PER_CLUSTER = 10;
  private static final int KEYS_PER_ZONE = 4;

  LimitsIT() {
    super(
        List.of("eu", "us"),
        Map.of(
            "limits.keys-per-cluster", Integer.toString(KEYS_PER_CLUSTER),
            "limits.keys-per-zone", Integer.toString(KEYS_PER_ZONE),
            "limits.versions-per-key", "3",
            "limits.name-bytes", "24",
            "limits.labels-per-key", "2",
            "limits.label-value-bytes", "8",
            "limits.reason-bytes", "32",
            "limits.dependents-per-key", "2",
            "limits.context-bytes", "64",
            "limits.batch-items", "4"));
  }

  /** Request ids of the refused writes of the running test. */
  private final List<String> refusedIds = new ArrayList<>();

  @Test
  @Order(0)
  void nodeStatus_showsEveryLimitWithItsCeiling() {
    var status =
        cluster.admin(cluster.leaderId()).getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
    Map<String, Integer> values = new java.util.TreeMap<>();
    status.getLimitsList().forEach(l -> values.put(l.getSetting(), l.getValue()));
    assertEquals(KEYS_PER_CLUSTER, values.get("limits.keys-per-cluster"));
    assertEquals(KEYS_PER_ZONE, values.get("limits.keys-per-zone"));
    assertEquals(10, values.size(), values.toString());
    assertTrue(
        status.getLimitsList().stream()
            .anyMatch(
                l -> l.getSetting().equals("limits.versions-per-key") && l.getCeiling() == 10_000));
  }

  @Test
  @Order(1)
  void listKeys_pageSizeAboveTwoToThe31_refusedNotTheWholeKeyspace() {
    String leader = cluster.leaderId();
    cluster.keys(leader).createKey(newKey(unique("page")));
    cluster.keys(leader).createKey(newKey(unique("page")));

    for (int pageSize : new int[] {0xFFFFFFFF, 0x80000000, 1001}) {
      expect(
          Status.Code.INVALID_ARGUMENT,
          "INVALID_PAGE_SIZE",
          () ->
              cluster
                  .keys(leader)
                  .listKeys(ListKeysRequest.newBuilder().setPageSize(pageSize).build()));
    }
    ListKeysResponse one =
        cluster.keys(leader).listKeys(ListKeysRequest.newBuilder().setPageSize(1).build());
    assertEquals(1, one.getKeysCount());
    assertFalse(one.getNextPageToken().isEmpty());
  }

  @Test
  @Order(2)
  void namesLabelsReasonsAndDependents_overTheirLimits_invalidArgumentAndNoLogEntry() {
    String leader = cluster.leaderId();
    String name = unique("reasons");
    cluster.keys(leader).createKey(newKey(name));
    cluster.keys(leader).rotateKey(rotateNow(name));
    cluster
        .keys(leader)
        .rotateKey(
            RotateKeyRequest.newBuilder().setName(name).setActivationDelay(seconds(3600)).build());
    cluster.awaitConvergence();
    long before = appliedIndex(leader);
    var keys = cluster.keys(leader);

    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_KEY_NAME",
        "limits.name-bytes",
        () -> keys.createKey(newKey("n".repeat(25)).toBuilder().setRequestId(refusedId()).build()));
    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_LABEL",
        "limits.labels-per-key",
        () ->
            keys.createKey(
                newKey(unique("labels")).toBuilder()
                    .putLabels("a", "1")
                    .putLabels("b", "2")
                    .putLabels("c", "3")
                    .setRequestId(refusedId())
                    .build()));
    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_LABEL",
        "limits.label-value-bytes",
        () ->
            keys.createKey(
                newKey(unique("labels")).toBuilder()
                    .putLabels("team", "é".repeat(5)) // 10 bytes
                    .setRequestId(refusedId())
                    .build()));
    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_LABEL",
        "limits.labels-per-key",
        () ->
            keys.startBulkRotation(
                StartBulkRotationRequest.newBuilder()
                    .putLabelSelector("a", "1")
                    .putLabelSelector("b", "2")
                    .putLabelSelector("c", "3")
                    .setRequestId(refusedId())
                    .build()));
    // A reason of 4 MiB used to be stored in the version, its event and the audit record.
    for (String reason : List.of("x".repeat(33), "x".repeat((4 << 20) - 1024))) {
      expectOverLimit(
          Status.Code.INVALID_ARGUMENT,
          "REQUEST_TOO_LARGE",
          "limits.reason-bytes",
          () ->
              keys.cancelRotation(
                  CancelRotationRequest.newBuilder()
                      .setName(name)
                      .setVersion(3)
                      .setReason(reason)
                      .setRequestId(refusedId())
                      .build()));
    }
    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "REQUEST_TOO_LARGE",
        "limits.reason-bytes",
        () ->
            keys.rollbackRotation(
                RollbackRotationRequest.newBuilder()
                    .setName(name)
                    .setVersion(2)
                    .setReason("ü".repeat(17)) // 34 bytes
                    .setRequestId(refusedId())
                    .build()));
    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "TOO_MANY_DEPENDENTS",
        "limits.dependents-per-key",
        () ->
            keys.setKeyDependents(
                SetKeyDependentsRequest.newBuilder()
                    .setName(name)
                    .addDependents("d1")
                    .addDependents("d2")
                    .addDependents("d3")
                    .setRequestId(refusedId())
                    .build()));

    assertNoLogEntryFor(leader, before);
    // Within the limits, the same calls go through.
    keys.cancelRotation(
        CancelRotationRequest.newBuilder()
            .setName(name)
            .setVersion(3)
            .setReason("x".repeat(32))
            .build());
  }

  @Test
  @Order(3)
  void rotateKey_beyondVersionsPerKey_failedPreconditionAndNoLogEntry() {
    String leader = cluster.leaderId();
    String name = unique("versions");
    cluster.keys(leader).createKey(newKey(name));
    cluster.keys(leader).rotateKey(rotateNow(name));
    cluster.keys(leader).rotateKey(rotateNow(name));
    cluster.awaitConvergence();
    long before = appliedIndex(leader);

    StatusRuntimeException refused =
        expectOverLimit(
            Status.Code.FAILED_PRECONDITION,
            "TOO_MANY_VERSIONS",
            "limits.versions-per-key",
            () ->
                cluster
                    .keys(leader)
                    .rotateKey(rotateNow(name).toBuilder().setRequestId(refusedId()).build()));

    assertEquals("3", GrpcErrors.metadata(refused).get("limit"));
    assertNoLogEntryFor(leader, before);
  }

  @Test
  @Order(4)
  void dataPlane_batchesAndContextsOverTheirLimits_invalidArgumentBeforeAnything() {
    String leader = cluster.leaderId();
    var keys = cluster.keys(leader);
    DecryptRequest item = decryption(ByteString.copyFromUtf8("not one"));
    BatchDecryptRequest.Builder five = BatchDecryptRequest.newBuilder();
    BatchReEncryptRequest.Builder fiveMoves = BatchReEncryptRequest.newBuilder();
    for (int i = 0; i < 5; i++) {
      five.addItems(item);
      fiveMoves.addItems(ReEncryptRequest.newBuilder().setCiphertext(item.getCiphertext()));
    }
    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "BATCH_TOO_LARGE",
        "limits.batch-items",
        () -> keys.batchDecrypt(five.build()));
    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "BATCH_TOO_LARGE",
        "limits.batch-items",
        () -> keys.batchReEncrypt(fiveMoves.build()));
    // Four items are taken (each refused on its own as not a ciphertext).
    BatchDecryptRequest.Builder four = BatchDecryptRequest.newBuilder();
    for (int i = 0; i < 4; i++) {
      four.addItems(item);
    }
    assertEquals(4, keys.batchDecrypt(four.build()).getItemsCount());

    Map<String, String> large = Map.of("tenant", "t".repeat(80));
    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_CONTEXT",
        "limits.context-bytes",
        () ->
            keys.generateDataKey(
                GenerateDataKeyRequest.newBuilder()
                    .setKeyName("any")
                    .putAllContext(large)
                    .build()));
    expectOverLimit(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_CONTEXT",
        "limits.context-bytes",
        () -> keys.decrypt(item.toBuilder().putAllContext(large).build()));
  }

  @Test
  @Order(5) // last: it fills the cluster up to its limit of keys
  void createKey_beyondKeysPerZoneAndPerCluster_resourceExhaustedAndNoLogEntry() {
    String eu = holderOf("eu");
    for (int i = 0; i < KEYS_PER_ZONE; i++) {
      cluster.keys(eu).createKey(newKey(unique("eu"), "eu"));
    }
    cluster.awaitConvergence();
    long before = appliedIndex(eu);
    expectOverLimit(
        Status.Code.RESOURCE_EXHAUSTED,
        "TOO_MANY_KEYS_IN_ZONE",
        "limits.keys-per-zone",
        () ->
            cluster
                .keys(eu)
                .createKey(
                    newKey(unique("eu"), "eu").toBuilder().setRequestId(refusedId()).build()));
    assertNoLogEntryFor(eu, before);

    // The rest of the cluster's room, in zone "us" (the other tests used only "default").
    String us = holderOf("us");
    long keys =
        cluster.admin(us).getNodeStatus(GetNodeStatusRequest.getDefaultInstance()).getKeyCount();
    assertTrue(keys <= KEYS_PER_CLUSTER, "keys " + keys);
    for (long k = keys; k < KEYS_PER_CLUSTER; k++) {
      cluster.keys(us).createKey(newKey(unique("us"), "us"));
    }
    cluster.awaitConvergence();
    before = appliedIndex(us);
    StatusRuntimeException full =
        expectOverLimit(
            Status.Code.RESOURCE_EXHAUSTED,
            "TOO_MANY_KEYS",
            "limits.keys-per-cluster",
            () ->
                cluster
                    .keys(us)
                    .createKey(
                        newKey(unique("us"), "us").toBuilder().setRequestId(refusedId()).build()));
    assertEquals(Integer.toString(KEYS_PER_CLUSTER), GrpcErrors.metadata(full).get("limit"));
    assertNoLogEntryFor(us, before);
    assertEquals(
        KEYS_PER_CLUSTER,
        cluster.admin(us).getNodeStatus(GetNodeStatusRequest.getDefaultInstance()).getKeyCount());
  }

  private static RotateKeyRequest rotateNow(String name) {
    return RotateKeyRequest.newBuilder().setName(name).setActivationDelay(seconds(0)).build();
  }

  private String refusedId() {
    String id = "refused-" + UUID.randomUUID();
    refusedIds.add(id);
    return id;
  }

  private String holderOf(String zone) {
    return cluster.layout().regionsByNode().keySet().stream()
        .filter(id -> cluster.layout().zonesOf(id).contains(zone))
        .findFirst()
        .orElseThrow();
  }

  private long appliedIndex(String node) {
    return cluster
        .admin(node)
        .getNodeStatus(GetNodeStatusRequest.getDefaultInstance())
        .getAppliedIndex();
  }

  /**
   * No audit record after index {@code before} (on {@code node}, once the cluster converged) is a
   * refused request's, and none is a caller's: only the nodes' own bookkeeping (acknowledgements,
   * activations, usage), which carries no principal.
   */
  private void assertNoLogEntryFor(String node, long before) {
    cluster.awaitConvergence();
    List<AuditRecord> since = cluster.nodes.get(node).raft().state().audit(before + 1, 10_000);
    for (AuditRecord record : since) {
      assertFalse(refusedIds.contains(record.getRequestId()), "refused request logged: " + record);
      assertTrue(record.getPrincipal().isEmpty(), "a caller's log entry: " + record);
    }
  }

  private static StatusRuntimeException expectOverLimit(
      Status.Code code, String reason, String setting, Executable call) {
    StatusRuntimeException e = expect(code, reason, call);
    assertEquals(setting, GrpcErrors.metadata(e).get("setting"), e.getMessage());
    assertTrue(e.getStatus().getDescription().contains(setting), e.getMessage());
    return e;
  }

  private static StatusRuntimeException expect(Status.Code code, String reason, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getMessage());
    assertEquals(reason, GrpcErrors.reason(e), e.getMessage());
    return e;
  }
}
