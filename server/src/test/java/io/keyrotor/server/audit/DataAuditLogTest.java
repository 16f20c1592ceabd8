package io.keyrotor.server.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.DataAuditRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data audit log on a real file: group commit from many callers, the hash chain across a
 * restart, a torn tail cut off, a failing disk failing exactly the batch it hit (and the chain
 * going on without a gap), a full queue refusing at once, and the verifier catching edits.
 */
class DataAuditLogTest {
  @TempDir Path dir;

  static DataAuditRecord.Builder record(int i) {
    return DataAuditRecord.newBuilder()
        .setTimeUnixMillis(1_000 + i)
        .setPrincipal("p" + (i % 3))
        .setMethod("keyrotor.v1.KeyService/Decrypt")
        .setKeyName("k" + (i % 2))
        .setKeyVersion(1);
  }

  @Test
  void callersContinuations_runOffTheWriterThread_afterTheRecordIsDurable() throws Exception {
    Path file = dir.resolve("audit").resolve("data-audit.log");
    try (DataAuditLog log = DataAuditLog.open(file, "n1", 1_000, r -> {})) {
      List<CompletableFuture<String>> threads = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        threads.add(log.append(record(i)).thenApply(done -> Thread.currentThread().getName()));
      }
      for (CompletableFuture<String> thread : threads) {
        String name = thread.get(30, TimeUnit.SECONDS);
        // A continuation on the writer or a sync thread would hold up every later batch.
        assertFalse(name.startsWith("data-audit-writer-"), name);
        assertFalse(name.startsWith("data-audit-sync-"), name);
      }
      assertEquals(200, log.head().sequence());
    }
  }

  @Test
  void manyCallers_groupCommitted_chainVerifies_andGoesOnAfterReopen() throws Exception {
    Path file = dir.resolve("audit").resolve("data-audit.log");
    List<DataAuditRecord> seen = new CopyOnWriteArrayList<>();
    List<CompletableFuture<Void>> written = new ArrayList<>();
    try (DataAuditLog log = DataAuditLog.open(file, "n1", 1_000, seen::add)) {
      List<Thread> callers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int base = t * 50;
        Thread caller =
            new Thread(
                () -> {
                  for (int i = 0; i < 50; i++) {
                    CompletableFuture<Void> f = log.append(record(base + i));
                    synchronized (written) {
                      written.add(f);
                    }
                  }
                });
        callers.add(caller);
        caller.start();
      }
      for (Thread caller : callers) {
        caller.join();
      }
      CompletableFuture.allOf(written.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      assertEquals(200, log.head().sequence());
      List<DataAuditRecord> all = log.read(0, 1_000, r -> true);
      assertEquals(200, all.size());
      assertTrue(DataAuditVerifier.verifyChain(all).ok());
      assertEquals(all.get(199).getHash(), log.head().hash());
      assertEquals(200, seen.size(), "the sinks saw every durable record");
      assertEquals(
          List.of(151L, 152L),
          log.read(150, 2, r -> true).stream().map(r -> r.getSequence()).toList());
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }
    try (DataAuditLog reopened = DataAuditLog.open(file, "n1", 10, r -> {})) {
      assertEquals(200, reopened.head().sequence());
      reopened.append(record(1)).get(60, TimeUnit.SECONDS);
      List<DataAuditRecord> all = reopened.read(0, 1_000, r -> true);
      assertEquals(201, all.size());
      assertTrue(
          DataAuditVerifier.verifyChain(all).ok(), DataAuditVerifier.verifyChain(all).problem());
    }
  }

  @Test
  void tornTail_cutOffAtOpen() throws Exception {
    Path file = dir.resolve("data-audit.log");
    try (DataAuditLog log = DataAuditLog.open(file, "n1", 10, r -> {})) {
      log.append(record(1)).get(60, TimeUnit.SECONDS);
      log.append(record(2)).get(60, TimeUnit.SECONDS);
    }
    long whole = Files.size(file);
    Files.write(file, new byte[] {(byte) 0x90, 0x01, 0x0a, 0x01}, StandardOpenOption.APPEND);
    try (DataAuditLog log = DataAuditLog.open(file, "n1", 10, r -> {})) {
      assertEquals(2, log.head().sequence());
      assertEquals(whole, Files.size(file));
      log.append(record(3)).get(60, TimeUnit.SECONDS);
      assertTrue(DataAuditVerifier.verifyChain(log.read(0, 10, r -> true)).ok());
    }
  }

  /** A real file whose writes fail while {@code failing} is set, as a full disk's would. */
  private static AuditFile failingWhen(AtomicBoolean failing, AuditFile real) {
    return new ForwardingAuditFile(real) {
      @Override
      public void append(ByteBuffer bytes) throws IOException {
        if (failing.get()) {
          ByteBuffer half = bytes.duplicate();
          half.limit(half.position() + half.remaining() / 2);
          real.append(half); // half a batch reaches the disk before it fills
          throw new IOException("No space left on device");
        }
        real.append(bytes);
      }
    };
  }

  @Test
  void failingDisk_failsTheBatch_cutsItBack_chainGoesOnWithoutGap() throws Exception {
    Path file = dir.resolve("data-audit.log");
    AtomicBoolean failing = new AtomicBoolean();
    try (DataAuditLog log =
        DataAuditLog.over(file, "n1", failingWhen(failing, AuditFile.open(file)), 10, 1, r -> {})) {
      log.append(record(1)).get(60, TimeUnit.SECONDS);
      failing.set(true);
      CompletableFuture<Void> lost = log.append(record(2));
      CompletionException e =
          org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class, lost::join);
      assertInstanceOf(DataAuditLog.Unavailable.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("No space left"), e.getCause().getMessage());
      assertEquals(1, log.head().sequence(), "nothing acknowledged, nothing counted");
      assertEquals(1, log.failures());
      failing.set(false);
      log.append(record(3)).get(60, TimeUnit.SECONDS);
      List<DataAuditRecord> all = log.read(0, 10, r -> true);
      assertEquals(List.of(1L, 2L), all.stream().map(DataAuditRecord::getSequence).toList());
      assertEquals(1_003, all.get(1).getTimeUnixMillis(), "the failed record is not on disk");
      assertTrue(DataAuditVerifier.verifyChain(all).ok());
    }
  }

  @Test
  void fullQueue_refusesAtOnce_countingRecordsWaitingForASync() throws Exception {
    Path file = dir.resolve("data-audit.log");
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch syncing = new CountDownLatch(1);
    AuditFile slow = ForwardingAuditFile.stallingSyncs(AuditFile.open(file), syncing, release);
    try (DataAuditLog log = DataAuditLog.over(file, "n1", slow, 2, 1, r -> {})) {
      CompletableFuture<Void> first = log.append(record(1));
      assertTrue(syncing.await(60, TimeUnit.SECONDS), "a sync holds the first record");
      CompletableFuture<Void> second = log.append(record(2));
      CompletableFuture<Void> refused = log.append(record(3));
      assertTrue(refused.isCompletedExceptionally(), "refused without waiting");
      assertEquals(1, log.refusedFull());
      assertEquals(2, log.queued());
      assertFalse(first.isDone());
      release.countDown();
      CompletableFuture.allOf(first, second).get(60, TimeUnit.SECONDS);
      assertEquals(2, log.head().sequence());
      log.append(record(4)).get(60, TimeUnit.SECONDS); // room again
      assertEquals(3, log.head().sequence());
    }
  }

  @Test
  void verifier_catchesEditsRemovalsAndAWrongCommittedHead() throws Exception {
    Path file = dir.resolve("data-audit.log");
    List<DataAuditRecord> all;
    try (DataAuditLog log = DataAuditLog.open(file, "n1", 10, r -> {})) {
      for (int i = 0; i < 5; i++) {
        log.append(record(i)).get(60, TimeUnit.SECONDS);
      }
      all = log.read(0, 10, r -> true);
    }
    assertTrue(DataAuditVerifier.verifyChain(all).ok());
    List<DataAuditRecord> edited = new ArrayList<>(all);
    edited.set(2, all.get(2).toBuilder().setCode(7).build());
    assertEquals(3, DataAuditVerifier.verifyChain(edited).failedSequence());
    List<DataAuditRecord> removed = new ArrayList<>(all);
    removed.remove(1);
    assertFalse(DataAuditVerifier.verifyChain(removed).ok());

    String head4 = HexFormat.of().formatHex(all.get(3).getHash().toByteArray());
    DataAuditVerifier.CommittedHead committed =
        DataAuditVerifier.CommittedHead.parse("node=n1 sequence=4 head=" + head4).orElseThrow();
    assertTrue(DataAuditVerifier.verifyAgainst(all, committed).ok());
    DataAuditVerifier.CommittedHead other =
        new DataAuditVerifier.CommittedHead(
            "n1", 4, HexFormat.of().formatHex(all.get(2).getHash().toByteArray()));
    assertFalse(DataAuditVerifier.verifyAgainst(all, other).ok());
    assertFalse(
        DataAuditVerifier.verifyAgainst(all.subList(0, 3), committed).ok(), "cut before the head");
  }
}
