package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.AuditExportItem;
import io.keyrotor.api.v1.AuditHashOnly;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.AuditRecord;
import io.keyrotor.client.audit.AuditKeysPem;
import io.keyrotor.client.audit.AuditTrailVerifier;
import io.keyrotor.crypto.AuditCheckpointSignatures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keyrotor audit verify}, offline: an intact export passes (exit 0); an export edited, with
 * a record deleted, inserted or reordered, cut off, or with a bad or missing signature fails (exit
 * 1) naming the problem. The export is built as a node builds it: records hashed into a chain, a
 * checkpoint in the chain and a closing one, signed with a P-256 key.
 */
class AuditVerifyCommandTest {
  @TempDir Path dir;

  private KeyPair signer;
  private KeyPair stranger;
  private List<String> lines;

  @BeforeEach
  void export() throws Exception {
    TrustedAuditKey keys = TrustedAuditKey.write(dir.resolve("keys.pem"), 1);
    signer = keys.signer();
    stranger = keys.stranger();

    List<AuditRecord> chain = new ArrayList<>();
    byte[] previous = new byte[32];
    long index = 1;
    for (int i = 0; i < 8; i++, index += 2) {
      // Records 5 and 6 are two commands of one group-committed log entry: one index, two
      // places in the batch.
      AuditRecord.Builder record =
          AuditRecord.newBuilder()
              .setLogIndex(i == 6 ? index - 2 : index)
              .setBatchPosition(i == 6 ? 1 : 0)
              .setTimeUnixMillis(1_700_000_000_000L + i)
              .setRequestId("req-" + i)
              .setProposerNode("n1")
              .setAction(i == 0 ? "REGISTER_AUDIT_KEY" : "ROTATE_KEY")
              .setKeyName(i % 2 == 0 ? "payments" : "ledger")
              .setVersion(i)
              .setPrincipal("admin")
              .setDetail("detail " + i)
              .setPreviousHash(ByteString.copyFrom(previous));
      if (i == 0) {
        record.setAuditKey(keys.registration());
      }
      if (i == 4) {
        record.setCheckpoint(checkpoint(chain.get(2), signer));
      }
      byte[] hash = AuditTrailVerifier.hashOf(record.build());
      chain.add(record.setHash(ByteString.copyFrom(hash)).build());
      previous = hash;
    }
    lines = new ArrayList<>();
    for (int i = 0; i < chain.size(); i++) {
      AuditRecord record = chain.get(i);
      // The ledger records as a filtered export writes them: hashes only.
      AuditExportItem item =
          record.getKeyName().equals("ledger") && i != 7
              ? AuditExportItem.newBuilder()
                  .setHashOnly(
                      AuditHashOnly.newBuilder()
                          .setLogIndex(record.getLogIndex())
                          .setPreviousHash(record.getPreviousHash())
                          .setHash(record.getHash()))
                  .build()
              : AuditExportItem.newBuilder().setRecord(record).build();
      lines.add(JsonOutput.render(AuditJson.item(item)));
    }
    lines.add(JsonOutput.render(AuditJson.closing(checkpoint(chain.get(7), signer), 17)));
  }

  private static AuditCheckpoint checkpoint(AuditRecord signed, KeyPair key) throws Exception {
    byte[] message =
        AuditCheckpointSignatures.message(
            signed.getLogIndex(), signed.getHash().toByteArray(), "n1", 1);
    Signature signature = Signature.getInstance(AuditCheckpointSignatures.ALGORITHM);
    signature.initSign(key.getPrivate());
    signature.update(message);
    return AuditCheckpoint.newBuilder()
        .setLogIndex(signed.getLogIndex())
        .setHead(signed.getHash())
        .setSignerNode("n1")
        .setKeyVersion(1)
        .setSignature(ByteString.copyFrom(signature.sign()))
        .build();
  }

  private CliRun verify() throws Exception {
    Files.writeString(dir.resolve("export.jsonl"), String.join("\n", lines) + "\n");
    return CliRun.execute(
        CliRun.cli(dir), new byte[0], "audit", "verify", "export.jsonl", "--trust", "keys.pem");
  }

  private void assertRefused(String problem) throws Exception {
    CliRun run = verify();
    assertEquals(1, run.status(), run.stdout() + run.stderr());
    assertTrue(run.stdout().contains(problem), run.stdout());
    assertTrue(run.stderr().contains("is NOT intact"), run.stderr());
  }

  @Test
  void intactFilteredExport_verifies() throws Exception {
    CliRun run = verify();
    assertEquals(0, run.status(), run.stdout() + run.stderr());
    assertTrue(run.stdout().contains("intact"), run.stdout());
  }

  @Test
  void batchPosition_isCoveredByTheHash() throws Exception {
    assertTrue(lines.get(6).contains("\"batch_position\":1"), lines.get(6));
    lines.set(6, lines.get(6).replace("\"batch_position\":1", "\"batch_position\":2"));
    assertRefused("line 7 (index 11): EDITED");
  }

  @Test
  void editedRecord_isDetected() throws Exception {
    lines.set(2, lines.get(2).replace("\"principal\":\"admin\"", "\"principal\":\"alice\""));
    assertRefused("line 3 (index 5): EDITED");
  }

  @Test
  void deletedRecord_isDetected() throws Exception {
    lines.remove(3);
    assertRefused("BROKEN LINK");
  }

  @Test
  void insertedRecord_isDetected() throws Exception {
    String copy = lines.get(2).replace("\"log_index\":5", "\"log_index\":6");
    lines.add(3, copy);
    assertRefused("BROKEN LINK");
  }

  @Test
  void reorderedRecords_areDetected() throws Exception {
    Collections.swap(lines, 1, 2);
    assertRefused("REORDERED");
  }

  @Test
  void truncatedExport_isDetected() throws Exception {
    lines.remove(lines.size() - 1); // the closing checkpoint
    lines.remove(lines.size() - 1);
    assertRefused("CUT OFF");
  }

  @Test
  void truncatedRecordsBehindTheClosingCheckpoint_areDetected() throws Exception {
    lines.remove(lines.size() - 2);
    assertRefused("CUT OFF");
  }

  @Test
  void badSignature_isDetected() throws Exception {
    AuditRecord last = AuditRecord.newBuilder().build();
    String closing = lines.get(lines.size() - 1);
    String forged =
        JsonOutput.render(
            AuditJson.closing(
                AuditJson.parse(closing).closingOrNull().toBuilder()
                    .setSignature(
                        checkpoint(
                                last.toBuilder()
                                    .setLogIndex(15)
                                    .setHash(AuditJson.parse(closing).closingOrNull().getHead())
                                    .build(),
                                stranger)
                            .getSignature())
                    .build(),
                17));
    lines.set(lines.size() - 1, forged);
    assertRefused("BAD SIGNATURE");
  }

  @Test
  void missingSignature_isDetected() throws Exception {
    lines.remove(lines.size() - 1);
    // The in-chain checkpoint signs index 5 only: what follows it is unsigned.
    assertRefused("signed by no checkpoint");
  }

  @Test
  void malformedLine_isNamed() throws Exception {
    lines.set(0, "{\"type\":\"record\",\"note\":\"added\"}");
    assertRefused("line 1: MALFORMED: unknown field \"note\"");
  }

  @Test
  void pemOfTheKeys_readsBackTheSameKeys() throws Exception {
    List<AuditKeyRegistration> read =
        AuditKeysPem.read(Files.readString(dir.resolve("keys.pem"), StandardCharsets.UTF_8));
    assertEquals(1, read.size());
    assertEquals("n1", read.get(0).getNode());
    assertEquals(ByteString.copyFrom(signer.getPublic().getEncoded()), read.get(0).getPublicKey());
  }
}
