package io.keyrotor.storage.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.storage.IntegrityStatus;
import io.keyrotor.storage.KeyStateStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays the checked-in golden log into a fresh store (real RocksDB) and compares the state digest
 * and audit chain head at every index the log's expectations name. Any change to what apply writes,
 * returns or audits shows up here; such a change must be deliberate, and then the golden files are
 * regenerated (see {@link GoldenLog#REGENERATE_COMMAND}).
 */
class GoldenLogTest {
  private static List<GoldenLog.Entry> entries;
  private static List<GoldenLog.Expectation> expectations;

  @TempDir Path dir;

  @BeforeAll
  static void readGoldenLog() throws IOException {
    try (InputStream in = resource(GoldenLog.COMMANDS_FILE)) {
      entries = GoldenLog.readEntries(in);
    }
    try (InputStream in = resource(GoldenLog.EXPECTATIONS_FILE)) {
      expectations = GoldenLog.readExpectations(in);
    }
  }

  @Test
  void replay_goldenLog_digestAndAuditHeadAsRecordedAtEveryExpectedIndex() {
    TreeMap<Long, GoldenLog.Expectation> byIndex = new TreeMap<>();
    expectations.forEach(e -> byIndex.put(e.index(), e));
    List<String> differences = new ArrayList<>();
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("state"))) {
      for (GoldenLog.Entry entry : entries) {
        store.apply(entry.command(), entry.term(), entry.index());
        GoldenLog.Expectation expected = byIndex.get(entry.index());
        if (expected == null) {
          continue;
        }
        if (!expected.digest().equals(store.digest())) {
          differences.add(difference(expected, "digest", expected.digest(), store.digest()));
        }
        if (!expected.auditHead().equals(store.auditHead())) {
          differences.add(
              difference(expected, "audit head", expected.auditHead(), store.auditHead()));
        }
      }
    }
    if (!differences.isEmpty()) {
      fail(
          "apply's behaviour changed: replaying the golden log (src/test/resources/golden/) no"
              + " longer gives the recorded state.\n  "
              + String.join("\n  ", differences)
              + "\nEvery replica must apply the log exactly as before, so a change to what apply"
              + " does must be deliberate. If it is, regenerate the golden log from the repository"
              + " root with\n  "
              + GoldenLog.REGENERATE_COMMAND
              + "\nand commit the new files with the change that explains it. If it is not, the"
              + " first index listed ends the part of the log where behaviour changed.");
    }
  }

  /**
   * After the whole golden log (every command kind), the data still sums to the digest apply kept:
   * a command that overwrites an entry without telling the digest what it replaced would leave a
   * store that a restart refuses to serve.
   */
  @Test
  void replay_goldenLog_reopenedStorePassesItsIntegrityCheck() throws InterruptedException {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("integrity"))) {
      for (GoldenLog.Entry entry : entries) {
        store.apply(entry.command(), entry.term(), entry.index());
      }
    }
    try (KeyStateStore reopened = KeyStateStore.open(dir.resolve("integrity"))) {
      IntegrityStatus status = reopened.awaitIntegrityCheck(60_000);
      assertEquals(IntegrityStatus.State.VERIFIED, status.state(), status.detail());
    }
  }

  /**
   * The golden log's batch entries give the same state as their commands applied one entry each:
   * the same key, node and zone records (but for each key's revision, the index of its last
   * change), the same request-id table and the same audit trail but for log indexes.
   */
  @Test
  void replay_batchesAsOneEntryPerCommand_sameStateAsTheBatches() {
    try (KeyStateStore batched = KeyStateStore.open(dir.resolve("batched"));
        KeyStateStore single = KeyStateStore.open(dir.resolve("single"))) {
      long singleIndex = 0;
      int batches = 0;
      for (GoldenLog.Entry entry : entries) {
        batched.apply(entry.command(), entry.term(), entry.index());
        List<Command> commands =
            entry.command().hasBatch()
                ? entry.command().getBatch().getCommandsList()
                : List.of(entry.command());
        batches += entry.command().hasBatch() ? 1 : 0;
        for (Command command : commands) {
          // A batch inside a batch is refused like a command of no kind this node knows.
          Command alone = command.hasBatch() ? command.toBuilder().clearBatch().build() : command;
          single.apply(alone, entry.term(), ++singleIndex);
        }
      }
      assertTrue(batches > 0, "the golden log holds batch entries");
      assertEquals(withoutRevisions(single), withoutRevisions(batched));
      assertEquals(single.nodes(), batched.nodes());
      assertEquals(single.zoneMasterKeys(), batched.zoneMasterKeys());
      assertEquals(single.requestRecordCount(), batched.requestRecordCount());
      assertEquals(auditTrail(single), auditTrail(batched));
    }
  }

  private static List<io.keyrotor.proto.internal.v1.KeyRecord> withoutRevisions(
      KeyStateStore store) {
    return store.keysAfter("", 100_000).stream()
        .map(k -> k.toBuilder().clearRevision().build())
        .toList();
  }

  private static List<String> auditTrail(KeyStateStore store) {
    return store.audit(0, 100_000).stream()
        .filter(r -> !r.hasCheckpoint())
        .map(
            r ->
                r.getAction()
                    + " "
                    + r.getRequestId()
                    + " "
                    + r.getKeyName()
                    + " v"
                    + r.getVersion()
                    + " "
                    + r.getResultCode()
                    + " "
                    + r.getTimeUnixMillis())
        .toList();
  }

  @Test
  void goldenLog_expectationsNameIndexesOfTheLog_inOrder() {
    assertFalse(expectations.isEmpty(), "the golden log expects nothing");
    Set<Long> indexes = new java.util.HashSet<>();
    long previous = 0;
    for (GoldenLog.Entry entry : entries) {
      assertEquals(previous + 1, entry.index(), "log indexes increase by one");
      previous = entry.index();
      indexes.add(entry.index());
    }
    for (GoldenLog.Expectation expectation : expectations) {
      assertTrue(
          indexes.contains(expectation.index()),
          "expectation at index " + expectation.index() + " is beyond the log");
    }
    assertEquals(
        entries.get(entries.size() - 1).index(),
        expectations.get(expectations.size() - 1).index(),
        "the last expectation covers the whole log");
  }

  @Test
  void goldenLog_coversEveryCommandKind() {
    Set<Command.BodyCase> missing = EnumSet.allOf(Command.BodyCase.class);
    entries.forEach(entry -> missing.remove(entry.command().getBodyCase()));
    assertTrue(
        missing.isEmpty(),
        "the golden log has no command of kind "
            + missing
            + ": add one to GoldenLogGenerator's script and regenerate ("
            + GoldenLog.REGENERATE_COMMAND
            + ")");
  }

  @Test
  void generator_writesTheCheckedInLog_byteForByte() throws IOException {
    // Deterministic (no clock, no random source) and in step with its script.
    Path generated = dir.resolve("generated");
    GoldenLogGenerator.generate(generated);

    byte[] checkedIn;
    try (InputStream in = resource(GoldenLog.COMMANDS_FILE)) {
      checkedIn = in.readAllBytes();
    }
    assertArrayEquals(
        checkedIn,
        Files.readAllBytes(generated.resolve(GoldenLog.COMMANDS_FILE)),
        "GoldenLogGenerator's script no longer writes the checked-in "
            + GoldenLog.COMMANDS_FILE
            + ": regenerate with "
            + GoldenLog.REGENERATE_COMMAND);
  }

  private static String difference(
      GoldenLog.Expectation expected, String what, String recorded, String actual) {
    return "at index "
        + expected.index()
        + " ("
        + expected.label()
        + "): "
        + what
        + " "
        + actual
        + ", recorded "
        + recorded;
  }

  private static InputStream resource(String name) {
    InputStream in = GoldenLogTest.class.getResourceAsStream("/golden/" + name);
    if (in == null) {
      throw new IllegalStateException(
          "golden log file golden/" + name + " is not on the classpath");
    }
    return in;
  }
}
