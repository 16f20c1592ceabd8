package io.keyrotor.storage.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.RecordAuditCheckpoint;
import io.keyrotor.storage.Commands;
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
 * The chain as stored: checkpoints and audit keys become records; a row edited in RocksDB after the
 * last checkpoint stops the store from opening, with a message naming the index.
 */
class AuditChainTamperTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path dir;

  @Test
  void checkpointAndAuditKey_areRecordsOfTheChain_andAnIntactStoreOpens() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      CheckpointedHistory.apply(store, T0);
      List<AuditRecord> records = store.audit(1, 10);
      assertEquals(6, records.size());
      assertTrue(records.get(2).hasAuditKey());
      assertEquals("REGISTER_AUDIT_KEY", records.get(2).getAction());
      assertTrue(records.get(4).hasCheckpoint());
      assertEquals(3, records.get(4).getCheckpoint().getLogIndex());
      for (AuditRecord record : records) {
        assertEquals(record.getHash(), ByteString.copyFrom(AuditChain.hashOf(record)));
      }
      assertEquals(1, store.nodes().get("n1").getAuditKeysCount());
    }
    try (KeyStateStore reopened = KeyStateStore.open(dir)) {
      assertEquals(6, reopened.appliedPosition().index());
    }
  }

  @Test
  void checkpointOfAnUnregisteredKey_isRefusedAndNotRecorded() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      store.apply(Commands.register("n1", T0), 1, 1);
      var result =
          store.apply(
              Command.newBuilder()
                  .setRequestId("c")
                  .setProposedTimeUnixMillis(T0 + 1)
                  .setRecordAuditCheckpoint(
                      RecordAuditCheckpoint.newBuilder()
                          .setCheckpoint(
                              AuditCheckpoint.newBuilder()
                                  .setLogIndex(1)
                                  .setHead(ByteString.copyFrom(new byte[32]))
                                  .setSignerNode("n1")
                                  .setKeyVersion(1)
                                  .setSignature(ByteString.copyFrom(new byte[64]))))
                  .build(),
              1,
              2);
      assertEquals("AUDIT_RECORD_INVALID", result.getOutcome().getReason());
      AuditRecord record = store.audit(2, 1).get(0);
      assertEquals(false, record.hasCheckpoint());
    }
  }

  @Test
  void rowEditedAfterTheLastCheckpoint_stopsTheStoreFromOpening() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      CheckpointedHistory.apply(store, T0);
    }
    try (StateDatabase database = StateDatabase.open(dir)) {
      byte[] key = StoreKeys.auditKey(4);
      AuditRecord stored = AuditRecord.parseFrom(database.get(Schema.AUDIT, key));
      AuditRecord edited = stored.toBuilder().setPrincipal("someone-else").build();
      try (WriteBatch batch = new WriteBatch();
          WriteOptions options = new WriteOptions()) {
        batch.put(database.family(Schema.AUDIT), key, edited.toByteArray());
        database.rocksDb().write(options, batch);
      }
    }
    StorageException refused = assertThrows(StorageException.class, () -> KeyStateStore.open(dir));
    assertTrue(
        refused.getMessage().contains("tampered") && refused.getMessage().contains("index 4"),
        refused.getMessage());
  }

  @Test
  void rowDeleted_stopsTheStoreFromOpening() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      CheckpointedHistory.apply(store, T0);
    }
    try (StateDatabase database = StateDatabase.open(dir);
        WriteBatch batch = new WriteBatch();
        WriteOptions options = new WriteOptions()) {
      batch.delete(database.family(Schema.AUDIT), StoreKeys.auditKey(6));
      database.rocksDb().write(options, batch);
    }
    StorageException refused = assertThrows(StorageException.class, () -> KeyStateStore.open(dir));
    assertTrue(refused.getMessage().contains("tampered"), refused.getMessage());
  }
}
