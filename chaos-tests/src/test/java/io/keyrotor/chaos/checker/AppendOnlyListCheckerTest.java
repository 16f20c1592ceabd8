package io.keyrotor.chaos.checker;

import static io.keyrotor.chaos.checker.CheckResults.assertOneAnomaly;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.chaos.history.SyntheticHistory;
import org.junit.jupiter.api.Test;

/** W1's list checker on hand-written histories: each anomaly names its operations. */
class AppendOnlyListCheckerTest {
  private final SyntheticHistory history = new SyntheticHistory();

  private void rotate(int p, long version, long t0, long t1) {
    history.ok(p, "rotate", "k", null, t0, t1, "{\"version\":" + version + "}");
  }

  private void list(int p, long t0, long t1, String versions) {
    history.ok(p, "list-versions", "k", null, t0, t1, versions);
  }

  private CheckResult check() {
    return AppendOnlyListChecker.rotations().check(history.build());
  }

  @Test
  void growingPrefixes_pass() {
    list(1, 0, 10, "[1]");
    rotate(2, 2, 5, 15);
    list(1, 20, 30, "[1,2]");
    rotate(2, 3, 40, 50);
    list(3, 45, 55, "[1,2]"); // concurrent with the rotation to 3
    list(1, 60, 70, "{\"versions\":[1,2,3]}");
    CheckResult result = check();
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
    assertEquals(2, result.count("rotations"));
  }

  @Test
  void readAfterAnAcknowledgedRotationWithoutIt_isALostWrite() {
    rotate(1, 2, 0, 10);
    list(2, 20, 30, "[1]");
    CheckResult result = check();
    assertOneAnomaly(result, "lost-write", 0L, 20L);
  }

  @Test
  void shorterReadAfterALongerOneCompleted_isStale() {
    rotate(1, 2, 0, 100);
    list(2, 10, 20, "[1,2]");
    list(3, 30, 40, "[1]");
    CheckResult result = check();
    assertOneAnomaly(result, "stale-read", 10L, 30L);
  }

  @Test
  void readsThatAreNotPrefixesOfOneAnother_areDivergent() {
    history.info(1, "rotate", "k", null, 0, 5);
    history.info(2, "rotate", "k", null, 0, 5);
    list(3, 10, 20, "[1,2,3]");
    list(4, 10, 20, "[1,3]");
    CheckResult result = check();
    assertEquals(1, result.count("divergent"), result.toString());
    assertEquals(1, result.count("gap"), "[1,3] skips version 2");
  }

  @Test
  void versionNoRotationReturned_isAPhantom() {
    list(1, 0, 10, "[1,2]");
    CheckResult result = check();
    assertEquals(1, result.count("phantom"), result.toString());
  }

  @Test
  void indeterminateRotationThatAppears_isRecovered_andOneThatDoesNot_isFine() {
    history.info(1, "rotate", "k", null, 0, 50);
    history.info(2, "rotate", "k", null, 0, 50);
    list(3, 100, 110, "[1,2]");
    CheckResult result = check();
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
    assertEquals(1, result.count("recovered-info"));
  }

  @Test
  void twoRotationsAcknowledgedAsOneVersion_isADuplicate() {
    rotate(1, 2, 0, 10);
    rotate(2, 2, 5, 15);
    list(3, 20, 30, "[1,2]");
    CheckResult result = check();
    assertOneAnomaly(result, "duplicate", 0L, 5L);
  }

  @Test
  void failedRotation_mustNotAppear() {
    history.fail(1, "rotate", "k", null, 0, 10, "INVALID_ARGUMENT");
    list(2, 20, 30, "[1,2]");
    assertEquals(1, check().count("phantom"));
  }
}
