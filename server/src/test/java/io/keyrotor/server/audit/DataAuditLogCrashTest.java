package io.keyrotor.server.audit;

import static io.keyrotor.server.audit.DataAuditLogTest.record;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.DataAuditRecord;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A preallocated data audit log after a crash, on real files: a copy of the file taken while the
 * log runs (what a crash leaves: the records, maybe a batch not yet synced, the zero tail) opens
 * with every record acknowledged before the copy, in order, its chain intact; a torn record in the
 * zero tail is cut off and not taken for tampering; a clean close leaves no tail.
 */
class DataAuditLogCrashTest {
  /** Small chunks, so a few hundred records cross several of them. */
  private static final DataAuditLog.Options SMALL_CHUNKS =
      new DataAuditLog.Options(10_000, 4_096, 2);

  @TempDir Path dir;

  private static List<DataAuditRecord> readAll(DataAuditLog log) throws Exception {
    return log.read(0, 100_000, r -> true);
  }

  @Test
  void preallocatedFile_zeroTail_readVerifiedAndCutAtClose() throws Exception {
    Path file = dir.resolve("data-audit.log");
    List<DataAuditRecord> written;
    try (DataAuditLog log = DataAuditLog.open(file, "n1", SMALL_CHUNKS, r -> {})) {
      for (int i = 0; i < 300; i++) {
        log.append(record(i)).get(60, TimeUnit.SECONDS);
      }
      written = readAll(log);
      long records = bytesOf(written);
      long size = Files.size(file);
      assertTrue(size > records, "preallocated ahead: " + size + " > " + records);
      assertEquals(0, size % 4_096, "in whole chunks");
      byte[] tail = Arrays.copyOfRange(Files.readAllBytes(file), (int) records, (int) size);
      assertArrayEquals(new byte[tail.length], tail, "zeros past the last record");
    }
    assertEquals(300, written.size());
    assertTrue(DataAuditVerifier.verifyChain(written).ok());
    assertEquals(bytesOf(written), Files.size(file), "a clean close cuts the tail off");
    try (DataAuditLog reopened = DataAuditLog.open(file, "n1", SMALL_CHUNKS, r -> {})) {
      assertEquals(300, reopened.head().sequence());
      reopened.append(record(300)).get(60, TimeUnit.SECONDS);
      List<DataAuditRecord> all = readAll(reopened);
      assertEquals(written, all.subList(0, 300));
      assertTrue(DataAuditVerifier.verifyChain(all).ok());
    }
  }

  @Test
  void crashImagesTakenUnderLoad_holdEveryAcknowledgedRecord_inOrder() throws Exception {
    Path file = dir.resolve("data-audit.log");
    List<Path> images = new ArrayList<>();
    List<Long> acknowledgedBefore = new ArrayList<>();
    List<DataAuditRecord> all;
    try (DataAuditLog log = DataAuditLog.open(file, "n1", SMALL_CHUNKS, r -> {})) {
      List<CompletableFuture<Void>> pending = new ArrayList<>();
      Thread load =
          new Thread(
              () -> {
                for (int i = 0; i < 3_000; i++) {
                  synchronized (pending) {
                    pending.add(log.append(record(i)));
                  }
                }
              });
      load.start();
      for (int n = 0; n < 5; n++) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (log.head().sequence() < (n + 1) * 400L && System.nanoTime() < deadline) {
          Thread.sleep(1);
        }
        // Everything up to the head is acknowledged (or about to be): it must be in the image.
        acknowledgedBefore.add(log.head().sequence());
        Path image = dir.resolve("image-" + n);
        Files.copy(file, image);
        images.add(image);
      }
      load.join();
      synchronized (pending) {
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
            .get(120, TimeUnit.SECONDS);
      }
      all = readAll(log);
    }
    assertEquals(3_000, all.size());
    for (int n = 0; n < images.size(); n++) {
      try (DataAuditLog crashed = DataAuditLog.open(images.get(n), "n1", SMALL_CHUNKS, r -> {})) {
        long recovered = crashed.head().sequence();
        assertTrue(
            recovered >= acknowledgedBefore.get(n),
            "image " + n + ": " + recovered + " < " + acknowledgedBefore.get(n));
        List<DataAuditRecord> records = readAll(crashed);
        assertEquals(all.subList(0, (int) recovered), records, "the same records, in order");
        // The node goes on from the image: the chain stays one chain.
        crashed.append(record(9_999)).get(60, TimeUnit.SECONDS);
        assertTrue(DataAuditVerifier.verifyChain(readAll(crashed)).ok());
      }
    }
  }

  @Test
  void tornRecordInTheZeroTail_cutOff_noDurableRecordLost() throws Exception {
    Path file = dir.resolve("data-audit.log");
    List<DataAuditRecord> durable;
    try (DataAuditLog log = DataAuditLog.open(file, "n1", SMALL_CHUNKS, r -> {})) {
      for (int i = 0; i < 20; i++) {
        log.append(record(i)).get(60, TimeUnit.SECONDS);
      }
      durable = readAll(log);
    }
    long end = bytesOf(durable);
    // What a crash can leave: the tail preallocated, the first half of a record written past the
    // last durable one, and a page of a later unsynced write further on.
    byte[] next = record(20).setSequence(21).build().toByteArray();
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.allocate(1), 3 * 4_096 - 1);
      channel.write(ByteBuffer.wrap(new byte[] {(byte) next.length}), end);
      channel.write(ByteBuffer.wrap(next, 0, next.length / 2), end + 1);
      channel.write(ByteBuffer.wrap(next), 2 * 4_096);
    }
    try (DataAuditLog reopened = DataAuditLog.open(file, "n1", SMALL_CHUNKS, r -> {})) {
      assertEquals(20, reopened.head().sequence());
      assertEquals(durable, readAll(reopened));
      reopened.append(record(20)).get(60, TimeUnit.SECONDS);
      List<DataAuditRecord> all = readAll(reopened);
      assertEquals(21, all.size());
      assertTrue(DataAuditVerifier.verifyChain(all).ok(), "the chain goes on, no tampering seen");
    }
    // A zero tail alone (a crash right after preallocating) is no torn record either.
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.allocate(8_192), channel.size());
    }
    try (DataAuditLog reopened = DataAuditLog.open(file, "n1", SMALL_CHUNKS, r -> {})) {
      assertEquals(21, reopened.head().sequence());
    }
  }

  private static long bytesOf(List<DataAuditRecord> records) {
    long total = 0;
    for (DataAuditRecord r : records) {
      int size = r.getSerializedSize();
      total += size + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(size);
    }
    return total;
  }
}
