package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.DestructionReceiptSignature;
import io.keyrotor.crypto.AuditCheckpointSignatures;
import io.keyrotor.crypto.DestructionReceiptSignatures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keyrotor audit verify-receipt}, offline: a receipt signed with a trusted audit key, as
 * {@code key receipt --json} writes it, verifies (exit 0); one with any field edited, signed by a
 * key not trusted, unsigned, or with a field added fails (exit 1) naming the problem.
 */
class ReceiptVerifyCommandTest {
  @TempDir Path dir;

  private KeyPair signer;
  private KeyPair stranger;

  @BeforeEach
  void keys() throws Exception {
    TrustedAuditKey keys = TrustedAuditKey.write(dir.resolve("keys.pem"), 3);
    signer = keys.signer();
    stranger = keys.stranger();
  }

  private static DestructionReceipt unsigned() {
    return DestructionReceipt.newBuilder()
        .setName("payments")
        .setVersion(1)
        .setZone("eu")
        .setDestroyedTime(Timestamp.newBuilder().setSeconds(1_740_830_400L).setNanos(123_000_000))
        .setScheduledDestroyTime(Timestamp.newBuilder().setSeconds(1_740_744_000L))
        .setScheduledBy("alice")
        .setLogIndex(42)
        .setAuditRecordHash("ab".repeat(32))
        .build();
  }

  /** Signs as a node does: the receipt's message with audit key n1/3 of {@code key}. */
  private static DestructionReceipt signed(DestructionReceipt receipt, KeyPair key)
      throws Exception {
    byte[] message =
        DestructionReceiptSignatures.message(
            new DestructionReceiptSignatures.Receipt(
                receipt.getName(),
                receipt.getVersion(),
                receipt.getDestroyedTime().getSeconds() * 1000
                    + receipt.getDestroyedTime().getNanos() / 1_000_000,
                receipt.getScheduledDestroyTime().getSeconds() * 1000,
                receipt.getScheduledBy(),
                receipt.getLogIndex(),
                HexFormat.of().parseHex(receipt.getAuditRecordHash()),
                receipt.getZone()),
            "n1",
            3);
    Signature signature = Signature.getInstance(AuditCheckpointSignatures.ALGORITHM);
    signature.initSign(key.getPrivate());
    signature.update(message);
    return receipt.toBuilder()
        .setSignature(
            DestructionReceiptSignature.newBuilder()
                .setSignerNode("n1")
                .setKeyVersion(3)
                .setSignature(ByteString.copyFrom(signature.sign()))
                .setRecordedIndex(44))
        .build();
  }

  private CliRun verify(String json) throws Exception {
    Files.writeString(dir.resolve("receipt.json"), json);
    return CliRun.execute(
        CliRun.cli(dir),
        new byte[0],
        "audit",
        "verify-receipt",
        "receipt.json",
        "--trust",
        "keys.pem");
  }

  private void assertRefused(String json, String problem) throws Exception {
    CliRun run = verify(json);
    assertEquals(1, run.status(), run.stdout() + run.stderr());
    assertTrue((run.stdout() + run.stderr()).contains(problem), run.stdout() + run.stderr());
  }

  private static String json(DestructionReceipt receipt) {
    return JsonOutput.render(ReceiptJson.json(receipt));
  }

  @Test
  void signedReceipt_verifies_andReadsBackAsItWasWritten() throws Exception {
    DestructionReceipt receipt = signed(unsigned(), signer);
    assertEquals(receipt, ReceiptJson.parse(ReceiptJson.json(receipt)));

    CliRun run = verify(json(receipt));

    assertEquals(0, run.status(), run.stdout() + run.stderr());
    assertTrue(run.stdout().contains("payments v1: signed by n1"), run.stdout());
    assertTrue(run.stdout().contains("verified"), run.stdout());
  }

  @Test
  void everyEditedField_isDetected() throws Exception {
    String intact = json(signed(unsigned(), signer));
    List<String[]> edits =
        List.of(
            new String[] {"\"key\":\"payments\"", "\"key\":\"ledger\""},
            new String[] {"\"version\":1", "\"version\":2"},
            new String[] {"\"zone\":\"eu\"", "\"zone\":\"us\""},
            new String[] {"2025-03-01T12:00:00.123Z", "2025-03-01T12:00:00.124Z"},
            new String[] {"\"scheduled_by\":\"alice\"", "\"scheduled_by\":\"mallory\""},
            new String[] {"\"log_index\":42", "\"log_index\":43"},
            new String[] {"ab".repeat(32), "ac" + "ab".repeat(31)});
    for (String[] edit : edits) {
      assertTrue(intact.contains(edit[0]), edit[0] + " in " + intact);
      assertRefused(intact.replace(edit[0], edit[1]), "BAD SIGNATURE");
    }
  }

  @Test
  void receiptSignedByAnUntrustedKey_isRefused() throws Exception {
    DestructionReceipt forged = signed(unsigned(), stranger);
    assertRefused(json(forged), "BAD SIGNATURE");
    DestructionReceipt otherSigner =
        forged.toBuilder()
            .setSignature(forged.getSignature().toBuilder().setSignerNode("n9"))
            .build();
    assertRefused(json(otherSigner), "UNTRUSTED SIGNER");
  }

  @Test
  void unsignedReceipt_isRefused() throws Exception {
    assertRefused(json(unsigned()), "UNSIGNED");
  }

  @Test
  void addedField_isMalformed() throws Exception {
    String intact = json(signed(unsigned(), signer));
    assertRefused(intact.replaceFirst("\\{", "{\"note\":\"x\","), "unknown field \"note\"");
  }
}
