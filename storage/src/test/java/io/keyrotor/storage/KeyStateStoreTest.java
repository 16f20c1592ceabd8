package io.keyrotor.storage;

import static io.keyrotor.storage.Commands.register;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.Commands.setStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.schema.Schema;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

class KeyStateStoreTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path dir;

  private static void applyAll(KeyStateStore store, List<Command> commands, long firstIndex) {
    long index = firstIndex;
    for (Command command : commands) {
      store.apply(command, 1, index++);
    }
  }

  @Test
  void apply_sameCommandsOnTwoReplicas_sameDigestAndAuditHead() {
    List<Command> commands = Commands.workload(42, 300, T0);
    try (KeyStateStore a = KeyStateStore.open(dir.resolve("a"));
        KeyStateStore b = KeyStateStore.open(dir.resolve("b"))) {
      applyAll(a, commands, 1);
      applyAll(b, commands, 1);

      assertEquals(a.digest(), b.digest());
      assertEquals(a.auditHead(), b.auditHead());
      assertEquals(AllKeys.of(a), AllKeys.of(b));
      assertEquals(new AppliedPosition(1, 300), a.appliedPosition());
    }
  }

  @Test
  void keysAwaitingValidation_followGatedVersions_andAreRebuiltOnOpen() {
    Path path = dir.resolve("gates");
    try (KeyStateStore store = KeyStateStore.open(path)) {
      store.apply(register("n1", T0), 1, 1);
      store.apply(register("n2", T0), 1, 2);
      store.apply(Commands.create("c1", T0, "gated"), 1, 3);
      store.apply(Commands.create("c2", T0, "plain"), 1, 4);
      assertTrue(store.keysAwaitingValidation().isEmpty(), "version 1 is never gated");

      // A rotation with a delay is gated on the nodes serving the zone; one without is not.
      store.apply(
          rotate("r1", T0 + 1, "gated", T0 + 60_000, RotationReason.ROTATION_REASON_MANUAL), 1, 5);
      store.apply(
          rotate("r2", T0 + 1, "plain", T0 + 1, RotationReason.ROTATION_REASON_MANUAL), 1, 6);
      assertEquals(java.util.Set.of("gated"), store.keysAwaitingValidation());

      store.apply(Commands.acknowledge("a1", T0 + 2, "gated", 2, "n1"), 1, 7);
      assertEquals(java.util.Set.of("gated"), store.keysAwaitingValidation(), "n2 still missing");
    }
    try (KeyStateStore reopened = KeyStateStore.open(path)) {
      assertEquals(java.util.Set.of("gated"), reopened.keysAwaitingValidation(), "rebuilt");
      reopened.apply(Commands.acknowledge("a2", T0 + 3, "gated", 2, "n2"), 1, 8);
      assertTrue(
          reopened.keysAwaitingValidation().isEmpty(),
          "validated: " + reopened.key("gated").orElseThrow().getVersions(1));
    }
  }

  @Test
  void readAtOnePosition_noEntryApplied_theValueAndThePositionItWasReadAt() {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      store.apply(Commands.create("c1", T0, "a"), 1, 1);
      store.apply(Commands.create("c2", T0, "b"), 1, 2);

      StateView.AtPosition<List<String>> read =
          store
              .readAtOnePosition(
                  s -> {
                    List<String> names = new java.util.ArrayList<>();
                    s.allKeys().forEach(k -> names.add(k.getName()));
                    return names;
                  })
              .orElseThrow();

      assertEquals(new AppliedPosition(1, 2), read.position());
      assertEquals(List.of("a", "b"), read.value());
    }
  }

  @Test
  void readAtOnePosition_anEntryAppliedDuringTheRead_emptySoTheCallerReadsAgain() {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      store.apply(Commands.create("c1", T0, "a"), 1, 1);

      var read =
          store.readAtOnePosition(
              s -> {
                store.apply(Commands.create("c2", T0, "b"), 1, 2);
                return s.keyCount();
              });
      var positionOnly =
          store.readAtOnePosition(
              s -> {
                store.recordPosition(1, 3);
                return s.keyCount();
              });

      assertTrue(read.isEmpty(), "a read that saw a key the applied position did not include");
      assertTrue(positionOnly.isEmpty(), "the position moved during the read");
      assertEquals(2, store.readAtOnePosition(s -> s.keyCount()).orElseThrow().value());
    }
  }

  @Test
  void apply_differentCommands_differentDigest() {
    try (KeyStateStore a = KeyStateStore.open(dir.resolve("a"));
        KeyStateStore b = KeyStateStore.open(dir.resolve("b"))) {
      a.apply(Commands.create("r1", T0, "alpha"), 1, 1);
      b.apply(Commands.create("r1", T0, "beta"), 1, 1);

      assertNotEquals(a.digest(), b.digest());
    }
  }

  @Test
  void apply_retriedRequestId_appliesOnceAndReturnsTheFirstOutcome() {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      store.apply(Commands.create("c", T0, "k"), 1, 1);
      Command rotation =
          rotate("rot-1", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL);

      CommandResult first = store.apply(rotation, 1, 2);
      CommandResult retry = store.apply(rotation, 2, 3);

      assertFalse(first.getDeduplicated());
      assertTrue(retry.getDeduplicated());
      assertEquals(first.getOutcome(), retry.getOutcome());
      assertEquals(2, store.key("k").orElseThrow().getVersionsCount());
      assertEquals(3, store.appliedPosition().index());
    }
  }

  @Test
  void apply_entryAtOrBelowAppliedIndex_changesNothing() {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      store.apply(Commands.create("c", T0, "k"), 1, 5);
      String digest = store.digest();

      CommandResult replay = store.apply(Commands.create("other", T0, "k2"), 1, 5);

      assertTrue(replay.getDeduplicated());
      assertTrue(store.key("k2").isEmpty());
      assertEquals(digest, store.digest());
    }
  }

  @Test
  void reopen_afterApplying_restoresViewPositionAndDigest() {
    List<Command> commands = Commands.workload(7, 120, T0);
    String digest;
    List<KeyRecord> keys;
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      applyAll(store, commands, 1);
      digest = store.digest();
      keys = List.copyOf(AllKeys.of(store).values());
    }

    try (KeyStateStore reopened = KeyStateStore.open(dir)) {
      assertEquals(digest, reopened.digest());
      assertEquals(keys, List.copyOf(AllKeys.of(reopened).values()));
      assertEquals(120, reopened.appliedPosition().index());
      assertFalse(reopened.nodes().isEmpty());
    }
  }

  @Test
  void apply_commandTimeGoingBackwards_clampedMonotonic() {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      store.apply(Commands.create("c1", T0 + 10_000, "a"), 1, 1);
      // A new leader whose clock is behind proposes next.
      store.apply(Commands.create("c2", T0, "b"), 2, 2);

      assertEquals(T0 + 10_000, store.lastCommandTimeMillis());
      assertEquals(
          T0 + 10_000, store.key("b").orElseThrow().getVersions(0).getActivationTimeUnixMillis());
    }
  }

  @Test
  void requestIds_olderThanRetention_evictedAndDigestStaysVerifiable() {
    long day = KeyStateStore.REQUEST_RETENTION.toMillis();
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      for (int i = 0; i < 20; i++) {
        store.apply(Commands.create("old-" + i, T0 + i, "k" + i), 1, i + 1);
      }
      for (int i = 0; i < 3; i++) {
        store.apply(Commands.create("new-" + i, T0 + day + 100 + i, "n" + i), 1, 21 + i);
      }
      assertTrue(store.request("old-0").isEmpty(), "evicted after the retention period");
      assertTrue(store.request("new-0").isPresent());
    }
    // Reopening recomputes the digest from the data: evictions kept it exact.
    try (KeyStateStore reopened = KeyStateStore.open(dir)) {
      assertEquals(23, reopened.appliedPosition().index());
    }
  }

  @Test
  void audit_everyCommandChainedByHash() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      store.apply(Commands.create("c", T0, "k"), 1, 1);
      store.apply(Commands.create("c2", T0 + 1, "k"), 1, 2); // rejected, and still audited
      store.apply(setStatus("d", T0 + 2, "k", 1, VersionStatus.VERSION_STATUS_DISABLED), 1, 3);

      List<AuditRecord> audit = store.audit(0, 10);

      assertEquals(3, audit.size());
      assertEquals("CREATE_KEY", audit.get(0).getAction());
      assertEquals(Code.ALREADY_EXISTS_VALUE, audit.get(1).getResultCode());
      assertEquals("VERSION_IS_PRIMARY", audit.get(2).getResultReason());
      byte[] previous = new byte[32];
      for (AuditRecord record : audit) {
        assertTrue(MessageDigest.isEqual(previous, record.getPreviousHash().toByteArray()));
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(previous);
        sha.update(record.toBuilder().clearHash().build().toByteArray());
        assertTrue(MessageDigest.isEqual(sha.digest(), record.getHash().toByteArray()));
        previous = record.getHash().toByteArray();
      }
      String head = java.util.HexFormat.of().formatHex(previous);
      assertEquals(head, store.auditHead());
      for (AuditRecord record : audit) {
        assertFalse(record.toString().contains("wrapped:"), "audit records carry no key material");
      }
    }
  }

  @Test
  void events_storedInLogOrderReadableAfterACursorAndPerKeyAcrossRestart() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      assertEquals(-1, store.lastEventCursor());
      store.apply(Commands.create("c1", T0, "a"), 1, 1);
      store.apply(Commands.create("c2", T0 + 1, "b"), 1, 2);
      store.apply(rotate("r1", T0 + 2, "a", T0 + 2, RotationReason.ROTATION_REASON_MANUAL), 1, 3);

      var all = store.eventsAfter(-1, 100);
      assertEquals(6, all.size(), "created+activated, created+activated, activated+superseded");
      assertEquals(1, all.get(0).getLogIndex());
      assertEquals(0, all.get(0).getSequence());
      assertEquals(1, all.get(1).getSequence());
      long afterFirstEntry = StateView.cursorOf(1, 1);
      assertEquals(4, store.eventsAfter(afterFirstEntry, 100).size());
      assertEquals(4, store.keyEvents("a", 100).size());
      assertEquals(2, store.keyEvents("b", 100).size());
      assertTrue(store.awaitEventsAfter(afterFirstEntry, 10));
      assertFalse(store.awaitEventsAfter(store.lastEventCursor(), 10), "nothing newer yet");
    }
    try (KeyStateStore reopened = KeyStateStore.open(dir)) {
      assertEquals(StateView.cursorOf(3, 1), reopened.lastEventCursor());
    }
  }

  @Test
  void checkpoint_restoredElsewhere_sameStateAndPosition() {
    Path live = dir.resolve("live");
    Path checkpoint = dir.resolve("checkpoint");
    Path restored = dir.resolve("restored");
    String digest;
    try (KeyStateStore store = KeyStateStore.open(live)) {
      applyAll(store, Commands.workload(3, 80, T0), 1);
      AppliedPosition position = store.checkpoint(checkpoint);
      assertEquals(80, position.index());
      digest = store.digest();
      store.apply(Commands.create("after", T0 + 999_999, "later"), 1, 81); // not in the checkpoint
    }

    KeyStateStore.restoreFromCheckpoint(checkpoint, restored);
    try (KeyStateStore store = KeyStateStore.open(restored)) {
      assertEquals(digest, store.digest());
      assertEquals(80, store.appliedPosition().index());
      assertTrue(store.key("later").isEmpty());
    }
    assertEquals(80, KeyStateStore.readPosition(checkpoint).index(), "checkpoint left intact");
  }

  @Test
  void open_dataChangedBehindTheStore_integrityCheckFails() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      store.apply(Commands.create("c", T0, "k"), 1, 1);
    }
    // Flip a stored record without going through apply, as a bad disk or a bad hand would.
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY));
    for (Schema family : Schema.all()) {
      descriptors.add(new ColumnFamilyDescriptor(family.columnFamilyNameBytes()));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions options = new DBOptions();
        RocksDB raw = RocksDB.open(options, dir.toString(), descriptors, handles)) {
      // Handles come back in the descriptors' order: the default family, then Schema.all().
      ColumnFamilyHandle keys = handles.get(1 + Schema.all().indexOf(Schema.KEYS));
      byte[] name = "k".getBytes(StandardCharsets.UTF_8);
      KeyRecord tampered =
          KeyRecord.parseFrom(raw.get(keys, name)).toBuilder().setZone("elsewhere").build();
      raw.put(keys, name, tampered.toByteArray());
      handles.forEach(ColumnFamilyHandle::close);
    }

    // Opening reads no key; the background check of the data against the digest finds it.
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      IntegrityStatus status = store.awaitIntegrityCheck(60_000);
      assertEquals(IntegrityStatus.State.FAILED, status.state());
      assertTrue(status.detail().contains("corrupt"), status.detail());
      assertTrue(store.integrity().failed());
    }
  }

  @Test
  void open_untouchedData_integrityCheckVerifies() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      applyAll(store, Commands.workload(3, 40, T0), 1);
    }
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      assertEquals(IntegrityStatus.State.VERIFIED, store.awaitIntegrityCheck(60_000).state());
    }
  }

  @Test
  void open_directoryWithoutDatabase_refusesToStart() throws Exception {
    Files.writeString(dir.resolve("stray-file"), "not a database");

    StorageException refused = assertThrows(StorageException.class, () -> KeyStateStore.open(dir));
    assertTrue(refused.getMessage().contains("CURRENT is missing"), refused.getMessage());
  }

  @Test
  void open_truncatedTableFiles_refusesToStart() throws Exception {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      applyAll(store, Commands.workload(5, 50, T0), 1);
      store.flush();
    }
    try (var files = Files.list(dir)) {
      for (Path sst : files.filter(p -> p.toString().endsWith(".sst")).toList()) {
        byte[] bytes = Files.readAllBytes(sst);
        Files.write(sst, java.util.Arrays.copyOf(bytes, bytes.length / 2));
      }
    }

    assertThrows(StorageException.class, () -> KeyStateStore.open(dir));
  }
}
