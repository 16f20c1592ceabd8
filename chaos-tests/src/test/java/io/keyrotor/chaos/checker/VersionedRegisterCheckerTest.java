package io.keyrotor.chaos.checker;

import static io.keyrotor.chaos.checker.CheckResults.assertOneAnomaly;
import static io.keyrotor.chaos.checker.CheckResults.firstInvokes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.SyntheticHistory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** W2's revision checker on hand-written histories: each anomaly names its operations. */
class VersionedRegisterCheckerTest {
  private final SyntheticHistory history = new SyntheticHistory();

  private SyntheticHistory activate(
      int p, long expected, long version, long t0, long t1, long rev) {
    return history.okRev(
        p,
        "activate",
        "k",
        "{\"version\":" + version + ",\"expected\":" + expected + "}",
        t0,
        t1,
        null,
        rev);
  }

  private SyntheticHistory read(int p, long version, long t0, long t1, long rev) {
    return history.okRev(p, "get-primary", "k", null, t0, t1, "{\"version\":" + version + "}", rev);
  }

  private CheckResult check() {
    return new VersionedRegisterChecker(VersionedRegisterChecker.primaryRegister(1L))
        .check(history.build());
  }

  @Test
  void consistentHistory_passes() {
    read(1, 1, 0, 10, 5);
    activate(2, 1, 2, 20, 30, 6);
    read(1, 2, 40, 50, 6);
    activate(2, 2, 3, 60, 70, 7);
    read(3, 3, 80, 90, 7);
    CheckResult result = check();
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
    assertEquals(5, result.count("ops"));
  }

  @Test
  void twoValuesAtOneRevision_isSplitBrain() {
    activate(1, 1, 2, 0, 10, 6);
    activate(2, 1, 3, 5, 15, 6);
    CheckResult result = check();
    assertEquals(CheckResult.Verdict.FAIL, result.verdict());
    assertEquals(2, result.count("split-brain"), "two values, and two writes, at revision 6");
    assertEquals(List.of(0L, 5L), firstInvokes(result, "split-brain"));
  }

  @Test
  void twoCompareAndSetsFromOneValueBothAcknowledged_isALostUpdate() {
    activate(1, 1, 2, 0, 10, 6);
    activate(2, 1, 3, 5, 15, 7);
    CheckResult result = check();
    assertOneAnomaly(result, "lost-update", 0L, 5L);
  }

  @Test
  void compareAndSetAfterAnIndeterminateWriteOfItsExpectedValue_passes() {
    activate(1, 1, 2, 0, 10, 6);
    history.info(2, "activate", "k", "{\"version\":3,\"expected\":2}", 20, 30);
    activate(3, 3, 4, 40, 50, 8);
    CheckResult result = check();
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
  }

  @Test
  void readOfAnOlderRevisionAfterAWriteCompleted_isStale() {
    activate(1, 1, 2, 0, 10, 6);
    read(2, 1, 20, 30, 5);
    CheckResult result = check();
    assertOneAnomaly(result, "stale-read", 0L, 20L);
  }

  @Test
  void readAtANewerRevisionWithAnOlderValue_isALostWrite() {
    activate(1, 1, 2, 0, 10, 6);
    activate(1, 2, 3, 20, 30, 7);
    read(2, 2, 40, 50, 9);
    CheckResult result = check();
    assertOneAnomaly(result, "lost-write", 0L, 20L, 40L);
  }

  @Test
  void writeWithARevisionNotAboveAnEarlierCompletedOperation_isWriteOrder() {
    read(1, 1, 0, 10, 8);
    activate(2, 1, 2, 20, 30, 8);
    CheckResult result = check();
    assertFalse(result.anomalies("write-order").isEmpty(), result.toString());
  }

  @Test
  void readOfAValueNobodyWrote_isAPhantom() {
    read(1, 42, 0, 10, 5);
    CheckResult result = check();
    assertEquals(1, result.count("phantom"), result.toString());
  }

  @Test
  void readOfAValueWrittenAtAHigherRevision_isAFutureRead() {
    read(1, 2, 0, 10, 5);
    activate(2, 1, 2, 3, 20, 6);
    CheckResult result = check();
    assertEquals(1, result.count("future-read"), result.toString());
  }

  @Test
  void indeterminateWriteThatAppearsLater_passes() {
    history.info(1, "activate", "k", "{\"version\":2,\"expected\":1}", 0, 1_000);
    read(2, 1, 10, 20, 5);
    read(2, 2, 2_000, 2_010, 6);
    CheckResult result = check();
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
  }

  @Test
  void acknowledgedReadWithoutRevision_isUnknown() {
    history.ok(1, "get-primary", "k", null, 0, 10, "{\"version\":1}");
    CheckResult result = check();
    assertEquals(CheckResult.Verdict.UNKNOWN, result.verdict());
    assertFalse(result.passed());
  }

  @Test
  void keysAreCheckedSeparately() {
    history.okRev(1, "get-primary", "a", null, 0, 10, "{\"version\":1}", 5);
    history.okRev(2, "get-primary", "b", null, 20, 30, "{\"version\":1}", 3);
    History built = history.build();
    CheckResult result =
        new VersionedRegisterChecker(VersionedRegisterChecker.primaryRegister(1L)).check(built);
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), "revisions are per key");
  }
}
