package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.KeyRequests.newKey;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.AuditExportItem;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.CreateAuditCheckpointRequest;
import io.keyrotor.api.v1.CreateAuditCheckpointResponse;
import io.keyrotor.api.v1.ExportAuditRequest;
import io.keyrotor.api.v1.GetAuditKeysRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on a real node: with {@code audit.retention.max-age=1s} the leader trims the audit
 * chain at a signed checkpoint through the log; an export of what is left verifies with the node's
 * registered audit key, and a record edited in that export is still detected.
 */
class AuditRetentionIT {
  @Test
  void trimmedChain_exportVerifiesFromTheCut_tamperingDetected(@TempDir Path directory)
      throws Exception {
    LocalTestCluster cluster = new LocalTestCluster(directory.resolve("c"), 1, List.of("eu"));
    try {
      cluster.configure("n1", "audit.checkpoint-interval", "1s");
      cluster.configure("n1", "audit.retention.max-age", "1s");
      cluster.configure("n1", "audit.retention.interval", "1s");
      cluster.startAll();
      for (int i = 0; i < 3; i++) {
        cluster.keysAs("n1", "admin").createKey(newKey("retained-" + i));
      }

      // The history before the first checkpoint ages past a second and is cut at a checkpoint.
      waitUntil(
          () -> firstIndex(export(cluster)) > 1, Duration.ofMinutes(2), "the audit chain trimmed");

      CreateAuditCheckpointResponse signed =
          cluster
              .audit("n1")
              .createAuditCheckpoint(CreateAuditCheckpointRequest.getDefaultInstance());
      List<AuditExportItem> items = new ArrayList<>();
      cluster
          .audit("n1")
          .exportAudit(
              ExportAuditRequest.newBuilder()
                  .setToIndex(signed.getCheckpoint().getLogIndex())
                  .build())
          .forEachRemaining(items::add);
      assertTrue(firstIndex(items) > 1);
      assertTrue(
          items.stream()
              .anyMatch(i -> i.hasRecord() && i.getRecord().getAction().equals("TRIM_HISTORY")),
          "the trim is itself in the chain");
      List<AuditKeyRegistration> keys =
          cluster.audit("n1").getAuditKeys(GetAuditKeysRequest.getDefaultInstance()).getKeysList();
      AuditCheckpoint checkpoint = signed.getCheckpoint();

      AuditTrailIT.assertVerifies(items, checkpoint, keys);
      // The export's start is itself signed: a checkpoint in the chain signs its first record.
      AuditExportItem first = items.get(0);
      assertTrue(
          items.stream()
              .anyMatch(
                  i ->
                      i.hasRecord()
                          && i.getRecord().hasCheckpoint()
                          && i.getRecord().getCheckpoint().getLogIndex() == firstIndex(items)
                          && i.getRecord()
                              .getCheckpoint()
                              .getHead()
                              .equals(first.getRecord().getHash())),
          "a checkpoint signs the first record left");

      List<AuditExportItem> edited = new ArrayList<>(items);
      int victim = items.size() / 2;
      edited.set(
          victim,
          items.get(victim).toBuilder()
              .setRecord(items.get(victim).getRecord().toBuilder().setPrincipal("someone-else"))
              .build());
      assertThrows(
          AssertionError.class,
          () -> AuditTrailIT.assertVerifies(edited, checkpoint, keys),
          "an edited record is detected");
    } finally {
      LocalTestCluster.closeChecked(cluster);
    }
  }

  private static List<AuditExportItem> export(LocalTestCluster cluster) {
    List<AuditExportItem> items = new ArrayList<>();
    cluster
        .audit("n1")
        .exportAudit(ExportAuditRequest.newBuilder().setMaxItems(1).build())
        .forEachRemaining(items::add);
    return items;
  }

  private static long firstIndex(List<AuditExportItem> items) {
    if (items.isEmpty()) {
      return 0;
    }
    AuditExportItem first = items.get(0);
    return first.hasRecord() ? first.getRecord().getLogIndex() : first.getHashOnly().getLogIndex();
  }
}
