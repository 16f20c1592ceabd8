package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.AuditExportItem;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.ComplianceReportChunk;
import io.keyrotor.api.v1.ComplianceReportHeader;
import io.keyrotor.api.v1.CreateAuditCheckpointRequest;
import io.keyrotor.api.v1.CreateAuditCheckpointResponse;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.ExportAuditRequest;
import io.keyrotor.api.v1.GetAuditKeysRequest;
import io.keyrotor.api.v1.GetDestructionReceiptRequest;
import io.keyrotor.api.v1.KeyCompliance;
import io.keyrotor.api.v1.StreamComplianceReportRequest;
import io.keyrotor.client.audit.AuditTrailVerifier;
import io.keyrotor.client.audit.DestructionReceiptVerifier;
import io.keyrotor.consensus.testing.Replicas;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Signed destruction receipts on a 3-node cluster: destroying a version yields a receipt that the
 * leader signs with its HSM-held audit key; the signed receipt is the same on every node, verifies
 * offline under the audit keys the cluster lists and fails once edited; the audit chain records it
 * (an export verifies, receipt included); and the compliance report, read at one index, lists the
 * signed receipt under its key and says the chain and the receipts verified.
 */
class SignedReceiptIT extends ClusterTestBase {
  SignedReceiptIT() {
    super(List.of("local"), Map.of("audit.receipt-signing-interval", "1s"));
  }

  @Test
  void destruction_yieldsASignedReceipt_inTheChain_andInTheComplianceReport() throws Exception {
    String name = keyWithDisabledFirstVersion("receipted");
    destroyFirstVersion(name, Duration.ofSeconds(90));

    // The leader signs it within a few signing intervals (bounded generously: a loaded machine).
    GetDestructionReceiptRequest request =
        GetDestructionReceiptRequest.newBuilder().setName(name).setVersion(1).build();
    AtomicReference<DestructionReceipt> signed = new AtomicReference<>();
    Replicas.waitUntil(
        () -> {
          signed.set(cluster.keys(cluster.leaderId()).getDestructionReceipt(request));
          return signed.get().hasSignature();
        },
        Duration.ofMinutes(2),
        "the receipt signed");
    DestructionReceipt receipt = signed.get();
    assertEquals("admin", receipt.getScheduledBy());
    assertTrue(receipt.getSignature().getRecordedIndex() > receipt.getLogIndex());
    cluster.awaitConvergence();
    for (String id : cluster.nodes.keySet()) {
      assertEquals(receipt, cluster.keys(id).getDestructionReceipt(request), "on " + id);
    }

    // Offline: the audit keys the cluster lists prove it; an edit breaks it.
    List<AuditKeyRegistration> trusted =
        cluster
            .audit(cluster.leaderId())
            .getAuditKeys(GetAuditKeysRequest.getDefaultInstance())
            .getKeysList();
    DestructionReceiptVerifier verifier = new DestructionReceiptVerifier(trusted);
    assertEquals(Optional.empty(), verifier.problem(receipt));
    assertTrue(
        verifier
            .problem(receipt.toBuilder().setScheduledBy("someone-else").build())
            .orElseThrow()
            .startsWith("BAD SIGNATURE"));

    // The chain holds the signed receipt, and an export up to a signed head verifies with it.
    CreateAuditCheckpointResponse checkpoint =
        cluster
            .audit(cluster.leaderId())
            .createAuditCheckpoint(CreateAuditCheckpointRequest.getDefaultInstance());
    List<AuditExportItem> items = new ArrayList<>();
    cluster
        .audit(cluster.leaderId())
        .exportAudit(
            ExportAuditRequest.newBuilder()
                .setToIndex(checkpoint.getCheckpoint().getLogIndex())
                .build())
        .forEachRemaining(items::add);
    List<DestructionReceipt> inChain =
        items.stream()
            .filter(AuditExportItem::hasRecord)
            .map(AuditExportItem::getRecord)
            .filter(r -> r.getAction().equals("SIGN_DESTRUCTION_RECEIPT") && r.getResultCode() == 0)
            .map(r -> r.getDestructionReceipt())
            .filter(r -> r.getName().equals(name))
            .toList();
    assertEquals(List.of(receipt), inChain, "the chain records the signed receipt once");
    assertEquals(
        List.of(),
        new AuditTrailVerifier(trusted).verify(items, List.of(checkpoint.getCheckpoint())));

    // The compliance report at one index: the key's receipt, signed; chain and receipts verified.
    List<ComplianceReportChunk> chunks = new ArrayList<>();
    cluster
        .compliance(cluster.leaderId())
        .streamComplianceReport(StreamComplianceReportRequest.getDefaultInstance())
        .forEachRemaining(chunks::add);
    ComplianceReportHeader header = chunks.get(0).getHeader();
    assertEquals("verified", header.getAuditChain().getState(), header.getAuditChain().getDetail());
    assertEquals(
        "verified",
        header.getDestructionReceipts().getState(),
        header.getDestructionReceipts().getDetail());
    KeyCompliance reported =
        chunks.stream()
            .filter(ComplianceReportChunk::hasKeys)
            .flatMap(c -> c.getKeys().getKeysList().stream())
            .filter(k -> k.getName().equals(name))
            .findFirst()
            .orElseThrow();
    assertEquals(List.of(receipt), reported.getDestructionReceiptsList());
  }
}
