package io.keyrotor.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The limits of the replicated state on real RocksDB stores: the request-id table bounded by count
 * (oldest forgotten first, the same on every replica and after a restart), and the count of keys
 * per zone that apply checks, rebuilt when a store opens.
 */
class StateLimitsTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final int RECORDS = 5;

  @TempDir Path dir;

  private static final Limits SMALL = new Limits(1_000, 3, 10, 64, RECORDS);

  @Test
  void requestRecords_boundedByCount_oldestForgottenFirst_sameDigestOnEveryReplica() {
    try (KeyStateStore a = KeyStateStore.open(dir.resolve("a"), SMALL);
        KeyStateStore b = KeyStateStore.open(dir.resolve("b"), SMALL)) {
      for (int i = 0; i < 12; i++) {
        // Nothing is old enough to expire by age: only the count evicts.
        Command create = Commands.inZone(Commands.create("req-" + i, T0 + i, "k" + i), "z" + i);
        a.apply(create, 1, i + 1);
        b.apply(create, 1, i + 1);
        assertTrue(a.requestRecordCount() <= RECORDS, "bounded after every command");
      }
      assertEquals(RECORDS, a.requestRecordCount());
      for (int i = 0; i < 12 - RECORDS; i++) {
        assertTrue(a.request("req-" + i).isEmpty(), "req-" + i + " forgotten, oldest first");
      }
      for (int i = 12 - RECORDS; i < 12; i++) {
        assertTrue(a.request("req-" + i).isPresent(), "req-" + i + " remembered");
      }
      assertEquals(a.digest(), b.digest());
    }
    // A restarted replica counts the table from the data and keeps evicting exactly as one that
    // never stopped.
    try (KeyStateStore a = KeyStateStore.open(dir.resolve("a"), SMALL);
        KeyStateStore b = KeyStateStore.open(dir.resolve("b"), SMALL)) {
      assertEquals(RECORDS, a.requestRecordCount());
      Command next = Commands.inZone(Commands.create("req-12", T0 + 12, "k12"), "z12");
      a.apply(next, 1, 13);
      b.apply(next, 1, 13);
      assertEquals(RECORDS, a.requestRecordCount());
      assertTrue(a.request("req-7").isEmpty());
      assertEquals(a.digest(), b.digest());
    }
  }

  @Test
  void keysPerZone_countedByApplyAndRebuiltOnOpen() {
    try (KeyStateStore store = KeyStateStore.open(dir, SMALL)) {
      for (int i = 0; i < 3; i++) {
        assertEquals(
            Code.OK_VALUE, code(store.apply(Commands.create("c" + i, T0, "k" + i), 1, i + 1)));
      }
      assertEquals(3, store.keyCountInZone("default"));
    }
    try (KeyStateStore reopened = KeyStateStore.open(dir, SMALL)) {
      assertEquals(3, reopened.keyCountInZone("default"));
      CommandResult refused = reopened.apply(Commands.create("c3", T0, "k3"), 1, 4);
      assertEquals(Code.RESOURCE_EXHAUSTED_VALUE, code(refused));
      assertEquals("TOO_MANY_KEYS_IN_ZONE", refused.getOutcome().getReason());
      assertTrue(reopened.key("k3").isEmpty());
    }
  }

  private static int code(CommandResult result) {
    return result.getOutcome().getCode();
  }
}
