package io.keyrotor.storage.dedup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.storage.StateDigest;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The request-id table on a real RocksDB. */
class RequestTableTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final long LATER = T0 + RequestTable.RETENTION.toMillis() + 1;

  @TempDir Path dir;

  private static CommandResultRecord outcome(long index) {
    return CommandResultRecord.newBuilder().setCode(Code.OK_VALUE).setAppliedIndex(index).build();
  }

  private static long retained(RequestTable table, int count) {
    return IntStream.range(0, count).filter(i -> table.lookup("r" + i).isPresent()).count();
  }

  @Test
  void evictExpired_atMostSixteenPerCommand_oldestFirst_untilNoneIsPastRetention()
      throws Exception {
    try (StateDatabase database = StateDatabase.open(dir)) {
      RequestTable table = new RequestTable(database);
      StateDigest digest = StateDigest.empty();
      try (StateBatch batch = new StateBatch(database, digest)) {
        for (int i = 0; i < 40; i++) {
          table.record(batch, "r" + i, outcome(i), T0 + i);
        }
        batch.commit();
      }
      assertEquals(40, retained(table, 40));

      for (int command = 1; command <= 3; command++) {
        try (StateBatch batch = new StateBatch(database, digest)) {
          table.evictExpired(batch, LATER + 40, "current");
          batch.commit();
        }
        assertEquals(Math.max(0, 40 - 16 * command), retained(table, 40));
      }
      assertFalse(table.lookup("r39").isPresent());
      assertEquals(StateDigest.empty(), digest, "every evicted record left the digest");
    }
  }

  @Test
  void evictExpired_spares_theIdOfTheCommandBeingApplied_andIdsWithinRetention() throws Exception {
    try (StateDatabase database = StateDatabase.open(dir)) {
      RequestTable table = new RequestTable(database);
      StateDigest digest = StateDigest.empty();
      try (StateBatch batch = new StateBatch(database, digest)) {
        table.record(batch, "old", outcome(1), T0);
        table.record(batch, "retried", outcome(2), T0 + 1);
        table.record(batch, "recent", outcome(3), LATER);
        batch.commit();
      }
      try (StateBatch batch = new StateBatch(database, digest)) {
        table.evictExpired(batch, LATER + 1, "retried");
        batch.commit();
      }
      assertFalse(table.lookup("old").isPresent());
      assertTrue(table.lookup("retried").isPresent());
      assertTrue(table.lookup("recent").isPresent());
    }
  }

  @Test
  void replayedOutcome_rememberedIdOrAlreadyApplied() throws Exception {
    try (StateDatabase database = StateDatabase.open(dir)) {
      RequestTable table = new RequestTable(database);
      try (StateBatch batch = new StateBatch(database, StateDigest.empty())) {
        table.record(batch, "known", outcome(7), T0);
        batch.commit();
      }
      assertEquals(outcome(7), table.replayedOutcome("known", 9));
      CommandResultRecord unknown = table.replayedOutcome("", 9);
      assertEquals(Code.OK_VALUE, unknown.getCode());
      assertEquals(9, unknown.getAppliedIndex());
      assertEquals("already applied", unknown.getMessage());
    }
  }
}
