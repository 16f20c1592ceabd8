package io.keyrotor.storage.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.proto.internal.v1.TrimHistory;
import io.keyrotor.storage.KeyStateStore;
import io.keyrotor.storage.StorageException;
import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateDatabase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Retention through the log: a trim cuts the audit chain only where a recorded checkpoint signs,
 * cuts the event stream at the same index, bounds bulk rotation jobs, and leaves a chain the store
 * still verifies from its last checkpoint (and still refuses when edited after the cut).
 */
class HistoryTrimTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path dir;

  private static Command trim(String requestId, long time, TrimHistory.Builder trim) {
    return Command.newBuilder()
        .setRequestId(requestId)
        .setProposedTimeUnixMillis(time)
        .setTrimHistory(trim)
        .build();
  }

  @Test
  void sizeCut_removesAuditAndEventsBeforeTheSignedIndex_andTheStoreReopens() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      CheckpointedHistory.apply(store, T0);
      assertTrue(store.keyEvents("k1", 10).size() > 0);
      int k2Events = store.keyEvents("k2", 10).size();

      // The size cut is index 4 (6 - 2): the newest checkpoint at or before it signs index 3.
      var result =
          store.apply(trim("t7", T0 + 6, TrimHistory.newBuilder().setKeepIndexes(2)), 1, 7);

      assertEquals(0, result.getOutcome().getCode(), result.getOutcome().getMessage());
      List<AuditRecord> left = store.audit(0, 100);
      assertEquals(3, left.get(0).getLogIndex());
      assertEquals(5, left.size()); // 3, 4, 5, 6 and the trim's own record, 7
      AuditRecord own = left.get(left.size() - 1);
      assertEquals("TRIM_HISTORY", own.getAction());
      assertTrue(own.getDetail().contains("audit before index 3"), own.getDetail());
      assertEquals(0, store.keyEvents("k1", 10).size());
      assertEquals(k2Events, store.keyEvents("k2", 10).size());
      assertTrue(store.eventsAfter(-1, 100).stream().allMatch(e -> e.getLogIndex() >= 3));
    }
    // Opening verifies the chain from its last checkpoint: the cut chain is intact.
    try (KeyStateStore reopened = KeyStateStore.open(dir)) {
      assertEquals(7, reopened.appliedPosition().index());
      assertEquals(3, reopened.audit(0, 1).get(0).getLogIndex());
    }
  }

  @Test
  void cutBeforeEveryCheckpoint_removesNoAuditRecord() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      CheckpointedHistory.apply(store, T0);
      int k1Events = store.keyEvents("k1", 10).size();

      store.apply(trim("t7", T0 + 6, TrimHistory.newBuilder().setKeepIndexes(5)), 1, 7);

      assertEquals(1, store.audit(0, 1).get(0).getLogIndex());
      assertEquals(k1Events, store.keyEvents("k1", 10).size());
    }
  }

  @Test
  void ageCut_comesFromTheCommand() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      CheckpointedHistory.apply(store, T0);

      // Everything before T0 + 4 (index 5) is old enough: the checkpoint signs index 3.
      store.apply(trim("t7", T0 + 6, TrimHistory.newBuilder().setCutTimeUnixMillis(T0 + 4)), 1, 7);

      assertEquals(3, store.audit(0, 1).get(0).getLogIndex());
    }
  }

  @Test
  void emptyTrim_isRefusedAndRemovesNothing() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      CheckpointedHistory.apply(store, T0);

      var result = store.apply(trim("t7", T0 + 6, TrimHistory.newBuilder()), 1, 7);

      assertEquals("INVALID_ARGUMENT", result.getOutcome().getReason());
      assertEquals(1, store.audit(0, 1).get(0).getLogIndex());
    }
  }

  @Test
  void bulkRotationJobs_keptToTheNewest() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      CheckpointedHistory.apply(store, T0);
      for (int i = 0; i < 3; i++) {
        store.apply(
            Command.newBuilder()
                .setRequestId("b" + i)
                .setProposedTimeUnixMillis(T0 + 10 + i)
                .setStartBulkRotation(
                    StartBulkRotation.newBuilder().setJobId("job-" + i).setZone("nowhere"))
                .build(),
            1,
            7 + i);
      }
      assertEquals(3, store.bulkRotations().size());

      store.apply(trim("t10", T0 + 20, TrimHistory.newBuilder().setKeepBulkRotations(1)), 1, 10);

      assertEquals(List.of("job-2"), List.copyOf(store.bulkRotations().keySet()));
    }
    try (KeyStateStore reopened = KeyStateStore.open(dir)) {
      assertEquals(List.of("job-2"), List.copyOf(reopened.bulkRotations().keySet()));
    }
  }

  @Test
  void recordEditedAfterTheCut_stillStopsTheStoreFromOpening() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      CheckpointedHistory.apply(store, T0);
      store.apply(trim("t7", T0 + 6, TrimHistory.newBuilder().setKeepIndexes(2)), 1, 7);
    }
    try (StateDatabase database = StateDatabase.open(dir)) {
      byte[] key = StoreKeys.auditKey(6);
      AuditRecord stored = AuditRecord.parseFrom(database.get(Schema.AUDIT, key));
      try (WriteBatch batch = new WriteBatch();
          WriteOptions options = new WriteOptions()) {
        batch.put(
            database.family(Schema.AUDIT),
            key,
            stored.toBuilder().setPrincipal("someone-else").build().toByteArray());
        database.rocksDb().write(options, batch);
      }
    }
    StorageException refused = assertThrows(StorageException.class, () -> KeyStateStore.open(dir));
    assertTrue(refused.getMessage().contains("index 6"), refused.getMessage());
  }
}
