package io.keyrotor.server.audit;

import static io.keyrotor.server.audit.DataAuditLogTest.record;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.DataAuditRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data audit log's pipeline on a real file: the writer writes while a sync runs, callers are
 * released only once a sync covering their record returned, every record of many threads is written
 * once and in each thread's order, and a failed sync fails exactly the records not yet durable.
 */
class DataAuditLogPipelineTest {
  @TempDir Path dir;

  @Test
  void manyThreads_everyRecordOnce_inOrder_acknowledgedOnlyWhenDurable() throws Exception {
    Path file = dir.resolve("data-audit.log");
    int threads = 16;
    int each = 250;
    int total = threads * each;
    List<DataAuditRecord> seen = new CopyOnWriteArrayList<>();
    AtomicInteger early = new AtomicInteger();
    List<CompletableFuture<Void>> acknowledged = new CopyOnWriteArrayList<>();
    try (DataAuditLog log =
        DataAuditLog.open(file, "n1", new DataAuditLog.Options(10_000, 8_192, 3), seen::add)) {
      List<Thread> callers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String caller = "t" + t;
        callers.add(
            new Thread(
                () -> {
                  for (int i = 0; i < each; i++) {
                    DataAuditRecord.Builder builder =
                        record(i).setPrincipal(caller).setRequestId(Integer.toString(i));
                    acknowledged.add(
                        log.append(builder)
                            .thenRun(
                                () -> {
                                  // The writer set the sequence; the durable head must cover it.
                                  if (builder.getSequence() > log.head().sequence()) {
                                    early.incrementAndGet();
                                  }
                                }));
                  }
                }));
      }
      callers.forEach(Thread::start);
      for (Thread caller : callers) {
        caller.join();
      }
      CompletableFuture.allOf(acknowledged.toArray(CompletableFuture[]::new))
          .get(120, TimeUnit.SECONDS);
      assertEquals(0, early.get(), "no caller released before its record was durable");
      assertEquals(total, log.head().sequence());

      List<DataAuditRecord> all = new ArrayList<>();
      long after = 0;
      while (all.size() < total) {
        List<DataAuditRecord> page = log.read(after, 1_000, r -> true);
        assertFalse(page.isEmpty());
        all.addAll(page);
        after = page.get(page.size() - 1).getSequence();
      }
      DataAuditVerifier.Result chain = DataAuditVerifier.verifyChain(all);
      assertTrue(chain.ok(), chain.problem());
      assertEquals(1, all.get(0).getSequence());
      assertEquals(all, seen, "the sinks saw every record once, in the file's order");
      Set<String> unique = new HashSet<>();
      int[] nextOf = new int[threads];
      for (DataAuditRecord r : all) {
        assertTrue(unique.add(r.getPrincipal() + "/" + r.getRequestId()), "once: " + r);
        int t = Integer.parseInt(r.getPrincipal().substring(1));
        assertEquals(nextOf[t]++, Integer.parseInt(r.getRequestId()), "in the caller's order");
      }
      assertTrue(log.syncs() >= 1 && log.syncs() <= total, "syncs: " + log.syncs());
    }
  }

  @Test
  void writer_writesTheNextBatch_whileASyncRuns() throws Exception {
    Path file = dir.resolve("data-audit.log");
    CountDownLatch firstSyncStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AuditFile stalled =
        ForwardingAuditFile.stallingSyncs(AuditFile.open(file), firstSyncStarted, release);
    try (DataAuditLog log = DataAuditLog.over(file, "n1", stalled, 100, 1, r -> {})) {
      CompletableFuture<Void> first = log.append(record(1));
      assertTrue(firstSyncStarted.await(60, TimeUnit.SECONDS));
      long afterFirst = Files.size(file);
      CompletableFuture<Void> second = log.append(record(2));
      // The second record reaches the file while the first one's sync is still running.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (Files.size(file) == afterFirst && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertTrue(Files.size(file) > afterFirst, "written during the sync");
      assertFalse(first.isDone(), "the first sync has not returned");
      assertFalse(second.isDone(), "and no sync covers the second yet");
      assertEquals(0, log.head().sequence());
      release.countDown();
      CompletableFuture.allOf(first, second).get(60, TimeUnit.SECONDS);
      assertEquals(2, log.head().sequence());
    }
  }

  @Test
  void failedSync_failsEveryRecordNotYetDurable_cutsBack_chainGoesOn() throws Exception {
    Path file = dir.resolve("data-audit.log");
    AtomicBoolean failing = new AtomicBoolean();
    AuditFile failingSync =
        new ForwardingAuditFile(AuditFile.open(file, 4_096, 2)) {
          @Override
          public void sync() throws IOException {
            if (failing.get()) {
              throw new IOException("Input/output error");
            }
            super.sync();
          }
        };
    try (DataAuditLog log = DataAuditLog.over(file, "n1", failingSync, 100, 2, r -> {})) {
      log.append(record(1)).get(60, TimeUnit.SECONDS);
      assertEquals(1, log.read(0, 10, r -> true).size());
      failing.set(true);
      List<CompletableFuture<Void>> lost = List.of(log.append(record(2)), log.append(record(3)));
      for (CompletableFuture<Void> f : lost) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        assertInstanceOf(DataAuditLog.Unavailable.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("synced"), e.getCause().getMessage());
      }
      assertEquals(1, log.head().sequence(), "nothing acknowledged past the failed sync");
      assertEquals(2, log.failures());
      failing.set(false);
      log.append(record(4)).get(60, TimeUnit.SECONDS);
      List<DataAuditRecord> all = log.read(0, 10, r -> true);
      assertEquals(List.of(1L, 2L), all.stream().map(DataAuditRecord::getSequence).toList());
      assertEquals(1_004, all.get(1).getTimeUnixMillis(), "the failed records are not on disk");
      assertTrue(DataAuditVerifier.verifyChain(all).ok());
    }
    try (DataAuditLog reopened = DataAuditLog.open(file, "n1", 10, r -> {})) {
      assertEquals(2, reopened.head().sequence());
    }
  }
}
