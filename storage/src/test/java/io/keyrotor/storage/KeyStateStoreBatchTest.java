package io.keyrotor.storage;

import static io.keyrotor.storage.Commands.rotate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandBatch;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.storage.audit.AuditChain;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch entries (group commit): their commands apply in order, each with its own result, request-id
 * record and audit record, exactly as the same commands applied one entry each.
 */
class KeyStateStoreBatchTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path dir;

  static Command batch(Command... commands) {
    return batch(Arrays.asList(commands));
  }

  static Command batch(List<Command> commands) {
    return Command.newBuilder()
        .setOriginNode("n1")
        .setBatch(CommandBatch.newBuilder().addAllCommands(commands))
        .build();
  }

  @Test
  void batch_appliesInOrder_eachCommandSeesTheOnesBefore() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("s"))) {
      CommandResult results =
          store.apply(
              batch(
                  rotate("r0", T0, "a", T0, RotationReason.ROTATION_REASON_MANUAL),
                  Commands.create("r1", T0, "a"),
                  rotate("r2", T0, "a", T0, RotationReason.ROTATION_REASON_MANUAL)),
              1,
              1);

      assertEquals(3, results.getBatchResultsCount());
      assertEquals(Code.NOT_FOUND_VALUE, code(results, 0), "the rotation before the create");
      assertEquals(Code.OK_VALUE, code(results, 1));
      assertEquals(Code.OK_VALUE, code(results, 2));
      assertEquals(2, results.getBatchResults(2).getOutcome().getVersion());
      assertEquals(2, store.key("a").orElseThrow().getVersionsCount());
      assertEquals(1, store.appliedPosition().index());
    }
  }

  @Test
  void batch_aRejectedCommand_doesNotFailItsNeighbours() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("s"))) {
      store.apply(Commands.create("r0", T0, "taken"), 1, 1);

      CommandResult results =
          store.apply(
              batch(
                  Commands.create("r1", T0, "x"),
                  Commands.create("r2", T0, "taken"),
                  Commands.create("r3", T0, "y")),
              1,
              2);

      assertEquals(Code.OK_VALUE, code(results, 0));
      assertEquals(Code.ALREADY_EXISTS_VALUE, code(results, 1));
      assertEquals(Code.OK_VALUE, code(results, 2));
      assertTrue(store.key("x").isPresent());
      assertTrue(store.key("y").isPresent());
      assertEquals("x", results.getBatchResults(0).getKey().getName(), "each result has its key");
      assertEquals("y", results.getBatchResults(2).getKey().getName());
    }
  }

  @Test
  void batch_retriedRequestInALaterBatchOrTheSameOne_isDeduplicated() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("s"))) {
      CommandResult first = store.apply(batch(Commands.create("r1", T0, "x")), 1, 1);
      CommandResult later =
          store.apply(
              batch(
                  Commands.create("r2", T0 + 1, "y"),
                  Commands.create("r1", T0 + 1, "x"),
                  Commands.create("r2", T0, "y")),
              1,
              2);

      assertFalse(first.getBatchResults(0).getDeduplicated());
      assertFalse(later.getBatchResults(0).getDeduplicated());
      assertTrue(later.getBatchResults(1).getDeduplicated(), "retry across batches");
      assertEquals(
          first.getBatchResults(0).getOutcome(),
          later.getBatchResults(1).getOutcome(),
          "the remembered outcome");
      assertTrue(later.getBatchResults(2).getDeduplicated(), "retry within the batch");
      assertEquals(Code.OK_VALUE, code(later, 2));
      assertEquals(1, store.key("x").orElseThrow().getVersionsCount());
    }
  }

  @Test
  void batch_oneAuditRecordPerCommand_chainedInOrder() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("s"))) {
      store.apply(Commands.create("r0", T0, "a"), 1, 1);
      store.apply(
          batch(
              Commands.create("r1", T0, "b"),
              Commands.create("r2", T0, "a"),
              Commands.create("r3", T0, "c")),
          1,
          2);
      store.apply(Commands.create("r4", T0, "d"), 1, 3);

      List<AuditRecord> audit = store.audit(0, 100);
      assertEquals(5, audit.size());
      assertEquals(
          List.of("r0", "r1", "r2", "r3", "r4"),
          audit.stream().map(a -> a.getRequestId()).toList());
      assertEquals(List.of(1L, 2L, 2L, 2L, 3L), audit.stream().map(a -> a.getLogIndex()).toList());
      assertEquals(List.of(0, 0, 1, 2, 0), audit.stream().map(a -> a.getBatchPosition()).toList());
      for (int i = 1; i < audit.size(); i++) {
        assertEquals(audit.get(i - 1).getHash(), audit.get(i).getPreviousHash(), "link " + i);
        assertEquals(
            com.google.protobuf.ByteString.copyFrom(AuditChain.hashOf(audit.get(i))),
            audit.get(i).getHash());
      }
      assertEquals(Code.ALREADY_EXISTS_VALUE, audit.get(2).getResultCode());
    }
    try (KeyStateStore reopened = KeyStateStore.open(dir.resolve("s"))) {
      // Opening verifies the audit chain from its start: the batch's records link in key order.
      assertEquals(3, reopened.appliedPosition().index());
    }
  }

  @Test
  void batch_replayedAtOrBelowTheAppliedIndex_changesNothing() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("s"))) {
      Command entry = batch(Commands.create("r1", T0, "x"), Commands.create("r2", T0, "y"));
      store.apply(entry, 1, 1);
      String digest = store.digest();

      CommandResult replayed = store.apply(entry, 1, 1);

      assertEquals(digest, store.digest());
      assertEquals(2, replayed.getBatchResultsCount());
      assertTrue(replayed.getBatchResults(0).getDeduplicated());
      assertEquals(Code.OK_VALUE, code(replayed, 1));
    }
  }

  @Test
  void batch_nestedBatch_isRefusedAsThatCommandsResult() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("s"))) {
      CommandResult results =
          store.apply(
              batch(Commands.create("r1", T0, "x"), batch(Commands.create("r2", T0, "y"))), 1, 1);

      assertEquals(Code.OK_VALUE, code(results, 0));
      assertEquals(Code.INVALID_ARGUMENT_VALUE, code(results, 1));
      assertFalse(store.key("y").isPresent());
    }
  }

  /**
   * Property: any grouping of a command sequence into batch entries gives the same results and the
   * same state as one entry per command, except each key record's revision (the log index of its
   * last change, which is the batch entry's index for every command of a batch).
   */
  @Test
  void anyGroupingIntoBatches_sameResultsAndStateAsOneEntryPerCommand() {
    for (long seed = 1; seed <= 6; seed++) {
      List<Command> commands = Commands.workload(seed, 200, T0);
      SplittableRandom grouping = new SplittableRandom(seed * 31);
      try (KeyStateStore single = KeyStateStore.open(dir.resolve("single" + seed));
          KeyStateStore batched = KeyStateStore.open(dir.resolve("batched" + seed))) {
        List<CommandResultRecord> singleResults = new ArrayList<>();
        long index = 1;
        for (Command command : commands) {
          singleResults.add(single.apply(command, 1, index++).getOutcome());
        }
        List<CommandResultRecord> batchedResults = new ArrayList<>();
        index = 1;
        for (int i = 0; i < commands.size(); ) {
          int size = 1 + grouping.nextInt(12);
          List<Command> group = commands.subList(i, Math.min(commands.size(), i + size));
          CommandResult results = batched.apply(batch(group), 1, index++);
          results.getBatchResultsList().forEach(r -> batchedResults.add(r.getOutcome()));
          i += group.size();
        }

        assertEquals(withoutIndex(singleResults), withoutIndex(batchedResults), "seed " + seed);
        assertEquals(keys(single), keys(batched), "seed " + seed);
        assertEquals(single.nodes(), batched.nodes(), "seed " + seed);
        assertEquals(single.keyCount(), batched.keyCount());
        assertEquals(single.requestRecordCount(), batched.requestRecordCount());
        assertEquals(
            single.audit(0, 10_000).stream().map(KeyStateStoreBatchTest::auditContent).toList(),
            batched.audit(0, 10_000).stream().map(KeyStateStoreBatchTest::auditContent).toList(),
            "seed " + seed);
      }
    }
  }

  private static List<CommandResultRecord> withoutIndex(List<CommandResultRecord> results) {
    return results.stream().map(r -> r.toBuilder().clearAppliedIndex().build()).toList();
  }

  private static List<KeyRecord> keys(KeyStateStore store) {
    return store.keysAfter("", 10_000).stream()
        .map(k -> k.toBuilder().clearRevision().build())
        .toList();
  }

  private static String auditContent(AuditRecord record) {
    return record.getAction()
        + " "
        + record.getRequestId()
        + " "
        + record.getKeyName()
        + " "
        + record.getVersion()
        + " "
        + record.getResultCode()
        + " "
        + record.getTimeUnixMillis();
  }

  private static int code(CommandResult results, int i) {
    return results.getBatchResults(i).getOutcome().getCode();
  }
}
