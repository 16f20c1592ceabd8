package io.keyrotor.storage.receipt;

import static io.keyrotor.storage.CommandBodies.createKey;
import static io.keyrotor.storage.CommandBodies.destroyVersion;
import static io.keyrotor.storage.CommandBodies.inCommand;
import static io.keyrotor.storage.CommandBodies.registerAuditKey;
import static io.keyrotor.storage.CommandBodies.scheduleDestroy;
import static io.keyrotor.storage.CommandBodies.signDestructionReceipt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.IntegrityStatus;
import io.keyrotor.storage.KeyStateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Destruction receipts written by apply, and the state store's scrub of the destroyed material from
 * its files, on a real RocksDB store.
 */
class DestructionReceiptsTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path directory;

  /**
   * Applies, at log index {@code index}, the signature of receipt k v1 by audit key n1/{@code
   * keyVersion}: {@code signatureBytes} bytes.
   */
  private static CommandResult signK1(
      KeyStateStore store,
      String requestId,
      long time,
      int keyVersion,
      int signatureBytes,
      long index) {
    return store.apply(
        at(requestId, time, signDestructionReceipt("k", 1, "n1", keyVersion, signatureBytes)),
        1,
        index);
  }

  private static Command at(
      String requestId, long time, com.google.protobuf.MessageOrBuilder body) {
    return inCommand(body)
        .setRequestId(requestId)
        .setProposedTimeUnixMillis(time)
        .setOriginNode("n1")
        .build();
  }

  @Test
  void destroy_writesOneReceiptNamingItsAuditRecord_andTheScrubLeavesNoFileHoldingTheKek()
      throws IOException {
    // Random bytes, as an HSM's wrapping gives: compression keeps them as they are.
    byte[] kek = new byte[40];
    new java.util.Random(7).nextBytes(kek);
    try (KeyStateStore store = KeyStateStore.open(directory)) {
      store.apply(
          at(
              "r1",
              T0,
              createKey("k")
                  .setActivationTimeUnixMillis(T0)
                  .setKek(
                      Commands.kek("default", "k/1").toBuilder()
                          .setCiphertext(com.google.protobuf.ByteString.copyFrom(kek)))),
          1,
          1);
      store.apply(
          Commands.rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL), 1, 2);
      store.apply(at("r3", T0 + 2, scheduleDestroy("k", 1, 10)), 1, 3);
      assertTrue(store.destructionReceipt("k", 1).isEmpty(), "scheduled is not destroyed");
      store.flush();
      assertTrue(
          filesHolding(directory, kek).stream()
              .anyMatch(p -> p.getFileName().toString().endsWith(".sst")),
          "the scan finds the KEK in a table file before");

      store.apply(at("r4", T0 + 100, destroyVersion("k", 1)), 1, 4);
      DestructionReceiptRecord receipt = store.destructionReceipt("k", 1).orElseThrow();
      AuditRecord audit = store.audit(4, 1).get(0);
      assertEquals(4, receipt.getLogIndex());
      assertEquals(audit.getHash(), receipt.getAuditRecordHash());
      assertEquals(T0 + 100, receipt.getDestroyedTimeUnixMillis());
      assertEquals(T0 + 12, receipt.getScheduledDestroyTimeUnixMillis());
      assertEquals("default", receipt.getZone());
      assertEquals(1, receipt.getVersion());

      store.apply(at("r5", T0 + 200, destroyVersion("k", 1)), 1, 5);
      assertEquals(receipt, store.destructionReceipt("k", 1).orElseThrow(), "destroyed once");
      assertTrue(store.destructionReceipt("k", 2).isEmpty());

      store.scrubDestroyedMaterial();
      assertEquals(List.of(), filesHolding(directory, kek), "no file holds the destroyed KEK");
    }
    try (KeyStateStore reopened = KeyStateStore.open(directory)) {
      assertTrue(reopened.destructionReceipt("k", 1).isPresent(), "the receipt is durable");
    }
  }

  @Test
  void signDestructionReceipt_storesTheSignatureOnce_andPutsTheSignedReceiptInTheChain()
      throws Exception {
    java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("EC");
    generator.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
    byte[] publicKey = generator.generateKeyPair().getPublic().getEncoded();
    try (KeyStateStore store = KeyStateStore.open(directory)) {
      store.apply(Commands.register("n1", T0), 1, 1);
      store.apply(at("r2", T0, registerAuditKey("n1", 1, publicKey)), 1, 2);
      store.apply(at("r3", T0, createKey("k").setActivationTimeUnixMillis(T0)), 1, 3);
      store.apply(
          Commands.rotate("r4", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL), 1, 4);
      store.apply(at("r5", T0 + 2, scheduleDestroy("k", 1, 10)), 1, 5);

      assertEquals(
          io.keyrotor.api.v1.ErrorReason.VERSION_NOT_DESTROYED.name(),
          signK1(store, "s6", T0 + 3, 1, 64, 6).getOutcome().getReason(),
          "no receipt before the destruction");
      store.apply(at("r7", T0 + 100, destroyVersion("k", 1)), 1, 7);
      assertEquals(
          List.of(store.destructionReceipt("k", 1).orElseThrow()),
          store.unsignedDestructionReceipts(10),
          "the new receipt awaits its signature");
      assertEquals(
          io.keyrotor.api.v1.ErrorReason.AUDIT_RECORD_INVALID.name(),
          signK1(store, "s8", T0 + 101, 2, 64, 8).getOutcome().getReason(),
          "an unregistered key version");
      assertEquals(
          io.keyrotor.api.v1.ErrorReason.AUDIT_RECORD_INVALID.name(),
          signK1(store, "s9", T0 + 102, 1, 63, 9).getOutcome().getReason(),
          "a signature of the wrong length");
      assertTrue(
          store.destructionReceipt("k", 1).orElseThrow().getSignature().getSignature().isEmpty(),
          "refusals change nothing");

      assertEquals(0, signK1(store, "s10", T0 + 103, 1, 64, 10).getOutcome().getCode());
      DestructionReceiptRecord signed = store.destructionReceipt("k", 1).orElseThrow();
      assertEquals("n1", signed.getSignature().getSignerNode());
      assertEquals(10, signed.getSignature().getRecordedIndex());
      assertEquals(64, signed.getSignature().getSignature().size());
      AuditRecord record = store.audit(10, 1).get(0);
      assertEquals("SIGN_DESTRUCTION_RECEIPT", record.getAction());
      assertEquals(DestructionReceipts.toApi(signed), record.getDestructionReceipt());
      assertEquals(7, record.getDestructionReceipt().getLogIndex());

      assertEquals(
          io.keyrotor.api.v1.ErrorReason.DESTRUCTION_RECEIPT_ALREADY_SIGNED.name(),
          signK1(store, "s11", T0 + 104, 1, 64, 11).getOutcome().getReason(),
          "signed once");
      assertEquals(signed, store.destructionReceipt("k", 1).orElseThrow(), "the first stays");
      assertEquals(List.of(), store.unsignedDestructionReceipts(10));
    }
    // Signing replaces the stored receipt: the digest must lose the unsigned one, or the data
    // no longer sums to it and the reopened store refuses to serve.
    try (KeyStateStore reopened = KeyStateStore.open(directory)) {
      IntegrityStatus status = reopened.awaitIntegrityCheck(60_000);
      assertEquals(IntegrityStatus.State.VERIFIED, status.state(), status.toString());
    }
  }

  private static List<Path> filesHolding(Path directory, byte[] needle) throws IOException {
    List<Path> found = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(directory)) {
      for (Path file : (Iterable<Path>) walk::iterator) {
        try {
          if (Files.isRegularFile(file) && indexOf(Files.readAllBytes(file), needle) >= 0) {
            found.add(file);
          }
        } catch (NoSuchFileException e) {
          // deleted meanwhile
        }
      }
    }
    return found;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
