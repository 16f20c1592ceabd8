package io.keyrotor.server.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The node's ledger of reserved encryptions against a stand-in for the log that grants as apply
 * does (whole blocks within the limit): callers on many threads never take more than was granted,
 * the next block is asked for ahead of need, and exhaustion is a refusal.
 */
class EncryptionReservationsTest {
  private static final long LIMIT = 1_000;

  /** Grants like ReserveEncryptions at apply, counting what it granted. */
  private final AtomicLong reserved = new AtomicLong();

  private final AtomicInteger proposals = new AtomicInteger();

  private CompletableFuture<CommandResult> grant(String name, int version, long count) {
    proposals.incrementAndGet();
    synchronized (reserved) {
      boolean ok = reserved.get() + count <= LIMIT;
      if (ok) {
        reserved.addAndGet(count);
      }
      return CompletableFuture.supplyAsync(
          () ->
              CommandResult.newBuilder()
                  .setOutcome(
                      CommandResultRecord.newBuilder()
                          .setCode(ok ? Code.OK_VALUE : Code.RESOURCE_EXHAUSTED_VALUE)
                          .setReason(ok ? "" : ErrorReason.ENCRYPTION_LIMIT_REACHED.name()))
                  .build());
    }
  }

  /** The key as the node's applied state shows it, with what was reserved so far. */
  private KeyRecord key() {
    return KeyRecord.newBuilder()
        .setName("k")
        .setZone("default")
        .setPolicy(RotationPolicyRecord.newBuilder().setMaxEncryptions(LIMIT))
        .addVersions(version())
        .build();
  }

  private KeyVersionRecord version() {
    return KeyVersionRecord.newBuilder()
        .setVersion(1)
        .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
        .setReservedEncryptions(reserved.get())
        .build();
  }

  /**
   * Takes one encryption, waiting for reservations until it gets one or the limit refuses it. A
   * caller waits only while a block is being reserved, and other callers may use each new block
   * first (under load, more than ten times in a row), so the bound here is what the ledger can ever
   * grant: one wait per block of the limit, plus the proposals that find it exhausted. (The data
   * plane itself gives up sooner, with ENCRYPTION_RESERVATION_UNAVAILABLE: a retryable answer, not
   * what this test measures.)
   */
  private boolean take(EncryptionReservations ledger) throws Exception {
    for (int waits = 0; waits < LIMIT + 100; waits++) {
      try {
        ledger.acquire(key(), version(), 0);
        return true;
      } catch (EncryptionReservations.NeedsReservation wait) {
        wait.future().get(5, TimeUnit.SECONDS);
      } catch (DataPlaneException refused) {
        assertEquals(ErrorReason.ENCRYPTION_LIMIT_REACHED, refused.reason());
        return false;
      }
    }
    return false;
  }

  @Test
  void concurrentCallers_neverTakeMoreThanTheLimit_andAllOfItIsUsable() throws Exception {
    var ledger =
        new EncryptionReservations(
            this::grant, new EncryptionReservations.Settings(10, Duration.ZERO));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> counts = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        counts.add(
            pool.submit(
                () -> {
                  int taken = 0;
                  for (int i = 0; i < 200; i++) {
                    if (take(ledger)) {
                      taken++;
                    }
                  }
                  return taken;
                }));
      }
      int total = 0;
      for (Future<Integer> count : counts) {
        total += count.get(60, TimeUnit.SECONDS);
      }
      assertEquals(LIMIT, reserved.get(), "blocks up to the limit, never past it");
      assertEquals(LIMIT, total, "every reserved encryption used, none beyond");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theNextBlock_isReservedAheadOfNeed_onceHalfIsUsed() throws Exception {
    var ledger =
        new EncryptionReservations(
            this::grant, new EncryptionReservations.Settings(10, Duration.ZERO));
    assertTrue(take(ledger));
    assertEquals(1, proposals.get());
    for (int i = 0; i < 4; i++) {
      ledger.acquire(key(), version(), 0);
    }
    // 5 of 10 used: the next block is on its way before anything waits for it.
    assertEquals(2, proposals.get());
    assertTrue(reserved.get() >= 10);
  }

  @Test
  void anExhaustedVersion_isRefusedWithoutAProposal() {
    reserved.set(LIMIT);
    var ledger =
        new EncryptionReservations(
            this::grant, new EncryptionReservations.Settings(10, Duration.ZERO));

    DataPlaneException refused =
        assertThrows(DataPlaneException.class, () -> ledger.acquire(key(), version(), 0));
    assertEquals(ErrorReason.ENCRYPTION_LIMIT_REACHED, refused.reason());
    assertEquals(0, proposals.get());
  }
}
