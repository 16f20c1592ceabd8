package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.AuditExportItem;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.CreateAuditCheckpointRequest;
import io.keyrotor.api.v1.CreateAuditCheckpointResponse;
import io.keyrotor.api.v1.ExportAuditRequest;
import io.keyrotor.api.v1.GetAuditKeysRequest;
import io.keyrotor.crypto.AuditCheckpointSignatures;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.storage.StateDigest;
import io.keyrotor.storage.audit.AuditChain;
import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The audit trail on a real cluster: every node registers its audit key; an export ends at a head
 * the leader signed, links from its first item to its last, and the signature verifies with the
 * registered key; filters keep the chain linked; the chain has no gap across a leader kill; a node
 * whose chain was edited in RocksDB refuses to start.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditTrailIT extends ClusterTestBase {
  AuditTrailIT() {
    super(List.of("eu"), java.util.Map.of());
  }

  private List<AuditKeyRegistration> awaitKeysOfEveryNode(String via) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (true) {
      List<AuditKeyRegistration> keys = List.of();
      try {
        keys =
            cluster.audit(via).getAuditKeys(GetAuditKeysRequest.getDefaultInstance()).getKeysList();
      } catch (StatusRuntimeException e) {
        // no leader yet (a node just restarted): the read barrier waits for one; try again
      }
      if (keys.stream().map(AuditKeyRegistration::getNode).distinct().count() == 3) {
        return keys;
      }
      assertTrue(Instant.now().isBefore(deadline), "audit keys registered: " + keys);
      Thread.sleep(200);
    }
  }

  private CreateAuditCheckpointResponse checkpoint() {
    return cluster
        .audit(cluster.leaderId())
        .createAuditCheckpoint(CreateAuditCheckpointRequest.getDefaultInstance());
  }

  private List<AuditExportItem> export(String node, ExportAuditRequest request) {
    List<AuditExportItem> items = new ArrayList<>();
    cluster.audit(node).exportAudit(request).forEachRemaining(items::add);
    return items;
  }

  private static long indexOf(AuditExportItem item) {
    return item.hasRecord() ? item.getRecord().getLogIndex() : item.getHashOnly().getLogIndex();
  }

  private static byte[] hashOf(AuditExportItem item) {
    return (item.hasRecord() ? item.getRecord().getHash() : item.getHashOnly().getHash())
        .toByteArray();
  }

  private static byte[] previousOf(AuditExportItem item) {
    return (item.hasRecord()
            ? item.getRecord().getPreviousHash()
            : item.getHashOnly().getPreviousHash())
        .toByteArray();
  }

  /** Links, hashes and the signature of {@code checkpoint} over the last item. */
  static void assertVerifies(
      List<AuditExportItem> items, AuditCheckpoint checkpoint, List<AuditKeyRegistration> keys)
      throws Exception {
    assertFalse(items.isEmpty());
    for (int i = 0; i < items.size(); i++) {
      AuditExportItem item = items.get(i);
      if (item.hasRecord()) {
        AuditRecord stored = AuditRecord.parseFrom(item.getRecord().toByteString());
        assertArrayEquals(
            AuditChain.hashOf(stored), hashOf(item), "hash of index " + indexOf(item));
      }
      if (i > 0) {
        assertArrayEquals(
            hashOf(items.get(i - 1)), previousOf(item), "link to index " + indexOf(item));
        assertTrue(indexOf(items.get(i - 1)) < indexOf(item));
      }
    }
    AuditExportItem last = items.get(items.size() - 1);
    assertEquals(checkpoint.getLogIndex(), indexOf(last));
    assertArrayEquals(checkpoint.getHead().toByteArray(), hashOf(last));
    AuditKeyRegistration key =
        keys.stream()
            .filter(
                k ->
                    k.getNode().equals(checkpoint.getSignerNode())
                        && k.getKeyVersion() == checkpoint.getKeyVersion())
            .findFirst()
            .orElseThrow();
    assertTrue(
        AuditCheckpointSignatures.verify(
            AuditCheckpointSignatures.publicKey(key.getPublicKey().toByteArray()),
            AuditCheckpointSignatures.message(
                checkpoint.getLogIndex(),
                checkpoint.getHead().toByteArray(),
                checkpoint.getSignerNode(),
                checkpoint.getKeyVersion()),
            checkpoint.getSignature().toByteArray()));
  }

  @Test
  @Order(1)
  void export_endsAtASignedHead_thatVerifiesWithTheRegisteredKey() throws Exception {
    String name = unique("audited");
    cluster.createKey(name, "default");
    cluster.keys(cluster.leaderId()).rotateKey(KeyRequests.rotation(name));
    List<AuditKeyRegistration> keys = awaitKeysOfEveryNode("n1");

    CreateAuditCheckpointResponse signed = checkpoint();
    List<AuditExportItem> items =
        export(
            cluster.followerIds().get(0),
            ExportAuditRequest.newBuilder()
                .setToIndex(signed.getCheckpoint().getLogIndex())
                .build());

    assertVerifies(items, signed.getCheckpoint(), keys);
    assertTrue(items.stream().allMatch(AuditExportItem::hasRecord));
    assertTrue(
        items.stream().anyMatch(i -> i.getRecord().hasAuditKey()), "audit keys in the chain");
    assertTrue(
        items.stream()
            .anyMatch(
                i ->
                    i.getRecord().getKeyName().equals(name)
                        && i.getRecord().getAction().equals("ROTATE_KEY")));
    assertTrue(signed.getRecordIndex() > signed.getCheckpoint().getLogIndex());
  }

  @Test
  @Order(2)
  void filteredExport_holdsOthersAsHashes_andStillVerifies() throws Exception {
    String name = unique("filtered");
    cluster.createKey(name, "default");
    List<AuditKeyRegistration> keys = awaitKeysOfEveryNode("n2");
    CreateAuditCheckpointResponse signed = checkpoint();

    List<AuditExportItem> items =
        export(
            "n2",
            ExportAuditRequest.newBuilder()
                .setKeyName(name)
                .setToIndex(signed.getCheckpoint().getLogIndex())
                .build());

    assertVerifies(items, signed.getCheckpoint(), keys);
    List<AuditExportItem> full = items.stream().filter(AuditExportItem::hasRecord).toList();
    assertFalse(full.isEmpty());
    assertTrue(
        full.stream().allMatch(i -> i.getRecord().getKeyName().equals(name)),
        "only the key's records in full");
    assertTrue(full.get(0).getRecord().getAction().equals("CREATE_KEY"));
    assertTrue(items.size() > full.size());

    // since: starts at the first record at or after the time; the rest still links.
    long since = full.get(0).getRecord().getTimeUnixMillis();
    List<AuditExportItem> recent =
        export(
            "n3",
            ExportAuditRequest.newBuilder()
                .setSinceUnixMillis(since)
                .setToIndex(signed.getCheckpoint().getLogIndex())
                .build());
    assertVerifies(recent, signed.getCheckpoint(), keys);
    assertTrue(recent.size() < items.size());
  }

  @Test
  @Order(3)
  void export_needsReadAudit_andIsBounded() {
    StatusRuntimeException denied =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                cluster
                    .auditAs("n1", "service")
                    .exportAudit(ExportAuditRequest.getDefaultInstance())
                    .forEachRemaining(item -> {}));
    assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());

    StatusRuntimeException tooMany =
        assertThrows(
            StatusRuntimeException.class,
            () -> export("n1", ExportAuditRequest.newBuilder().setMaxItems(10_001).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, tooMany.getStatus().getCode());
    assertTrue(tooMany.getStatus().getDescription().contains("resume"));

    List<AuditExportItem> two =
        export("n1", ExportAuditRequest.newBuilder().setMaxItems(2).build());
    assertEquals(2, two.size());
    List<AuditExportItem> next =
        export(
            "n1",
            ExportAuditRequest.newBuilder()
                .setMaxItems(2)
                .setAfterIndex(indexOf(two.get(1)))
                .build());
    assertArrayEquals(hashOf(two.get(1)), previousOf(next.get(0)), "resumed where it stopped");
  }

  @Test
  @Order(4)
  void chainHasNoGap_acrossALeaderKill() throws Exception {
    String before = unique("before-kill");
    cluster.createKey(before, "default");
    String leader = cluster.leaderId();
    cluster.stop(leader);
    String survivor = leader.equals("n1") ? "n2" : "n1";
    String after = unique("after-kill");
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (true) {
      try {
        cluster.keys(survivor).createKey(KeyRequests.newKey(after));
        break;
      } catch (StatusRuntimeException e) {
        assertTrue(Instant.now().isBefore(deadline), "a write after the kill: " + e);
        Thread.sleep(200);
      }
    }
    cluster.start(leader);
    List<AuditKeyRegistration> keys = awaitKeysOfEveryNode(leader);
    CreateAuditCheckpointResponse signed = checkpointWhenLed(deadline);
    List<AuditExportItem> items =
        export(
            leader,
            ExportAuditRequest.newBuilder()
                .setToIndex(signed.getCheckpoint().getLogIndex())
                .build());

    assertVerifies(items, signed.getCheckpoint(), keys);
    assertTrue(items.stream().anyMatch(i -> i.getRecord().getKeyName().equals(before)));
    assertTrue(items.stream().anyMatch(i -> i.getRecord().getKeyName().equals(after)));
  }

  private CreateAuditCheckpointResponse checkpointWhenLed(Instant deadline) throws Exception {
    while (true) {
      try {
        return checkpoint();
      } catch (RuntimeException e) {
        assertTrue(Instant.now().isBefore(deadline), "a checkpoint after the kill: " + e);
        Thread.sleep(200);
      }
    }
  }

  @Test
  @Order(5)
  void nodeWithAnEditedAuditRow_refusesToStart() throws Exception {
    String victim = cluster.followerIds().get(0);
    cluster.stop(victim);
    Path state;
    try (Stream<Path> paths = Files.walk(cluster.directory.resolve(victim))) {
      state =
          paths
              .filter(p -> p.getFileName().toString().equals("state"))
              .filter(p -> Files.exists(p.resolve("CURRENT")))
              .findFirst()
              .orElseThrow();
    }
    try (StateDatabase database = StateDatabase.open(state);
        StateBatch batch = new StateBatch(database, StateDigest.empty())) {
      AuditRecord last;
      try (var it = database.newIterator(Schema.AUDIT)) {
        it.seekToLast();
        last = AuditRecord.parseFrom(it.value());
      }
      AuditRecord edited = last.toBuilder().setDetail(last.getDetail() + " (edited)").build();
      // The audit family is not in the state digest: the edit leaves the digest as it was.
      batch.put(Schema.AUDIT, StoreKeys.auditKey(last.getLogIndex()), edited.toByteArray());
      batch.commit();
    }

    Exception refused = assertThrows(Exception.class, () -> cluster.start(victim));
    StringBuilder messages = new StringBuilder();
    for (Throwable t = refused; t != null; t = t.getCause()) {
      messages.append(t.getMessage()).append(" | ");
    }
    assertTrue(
        messages.toString().contains("audit chain") && messages.toString().contains("tampered"),
        messages.toString());
    // The refusal is the expected outcome here, not a fault of the running cluster.
    cluster.fatalErrors.removeIf(e -> String.valueOf(e.getCause()).contains("tampered"));
  }
}
