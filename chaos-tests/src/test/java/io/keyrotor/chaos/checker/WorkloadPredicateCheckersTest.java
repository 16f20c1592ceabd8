package io.keyrotor.chaos.checker;

import static io.keyrotor.chaos.checker.CheckResults.firstInvokes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.keyrotor.chaos.history.EventType;
import io.keyrotor.chaos.history.SyntheticHistory;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** W3 (encrypt/decrypt), W4 (activation times), W5 (scheduled rotation), W6 (disable-then-use). */
class WorkloadPredicateCheckersTest {
  private static final Set<String> NODES = Set.of("n1", "n2");
  private final SyntheticHistory history = new SyntheticHistory();

  private void op(
      int p,
      String node,
      String f,
      String key,
      String in,
      long t0,
      EventType type,
      long t1,
      String out,
      String error) {
    history.jsonOp(p, node, f, key, in, t0, type, t1, out, null, error);
  }

  /** An operation that succeeded, returning {@code out}. */
  private void ok(int p, String node, String f, String key, long t0, long t1, String out) {
    op(p, node, f, key, null, t0, EventType.OK, t1, out, null);
  }

  private void encrypt(int p, String plaintext, String ciphertext, long t0, long t1) {
    op(
        p,
        "n1",
        "encrypt",
        "k",
        "{\"plaintext\":\"" + plaintext + "\"}",
        t0,
        EventType.OK,
        t1,
        "{\"ciphertext\":\"" + ciphertext + "\",\"version\":1}",
        null);
  }

  private void decrypt(
      int p,
      String node,
      String f,
      String ciphertext,
      long t0,
      EventType type,
      long t1,
      String plaintext,
      String error) {
    op(
        p,
        node,
        f,
        "k",
        "{\"ciphertext\":\"" + ciphertext + "\"}",
        t0,
        type,
        t1,
        plaintext == null ? null : "{\"plaintext\":\"" + plaintext + "\"}",
        error);
  }

  private CheckResult encryptDecrypt() {
    return new EncryptDecryptChecker(NODES, EncryptDecryptChecker.DEFAULT_RETRIABLE)
        .check(history.build());
  }

  private void finalDecrypts(String ciphertext, String plaintext, long t) {
    decrypt(20, "n1", "final-decrypt", ciphertext, t, EventType.OK, t + 1, plaintext, null);
    decrypt(21, "n2", "final-decrypt", ciphertext, t + 2, EventType.OK, t + 3, plaintext, null);
  }

  @Test
  void decryptsAfterEncrypt_andFinalReDecryptsOnEveryNode_pass() {
    encrypt(1, "p1", "c1", 0, 10);
    decrypt(2, "n2", "decrypt", "c1", 20, EventType.OK, 30, "p1", null);
    decrypt(2, "n2", "decrypt", "c1", 40, EventType.FAIL, 50, null, "UNAVAILABLE: no leader");
    decrypt(2, "n2", "decrypt", "c1", 60, EventType.INFO, 70, null, "TimeoutIOException");
    finalDecrypts("c1", "p1", 100);
    CheckResult result = encryptDecrypt();
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
    assertEquals(3, result.count("pairs"));
    assertEquals(2, result.count("retriable"));
    assertEquals(2, result.count("final-nodes-ok"));
  }

  @Test
  void decryptAfterEncryptFailingWithKeyNotFound_fails() {
    encrypt(1, "p1", "c1", 0, 10);
    decrypt(2, "n2", "decrypt", "c1", 20, EventType.FAIL, 30, null, "NOT_FOUND: KEY_NOT_FOUND");
    finalDecrypts("c1", "p1", 100);
    CheckResult result = encryptDecrypt();
    assertEquals(1, result.anomalies("decrypt-failed").size(), result.toString());
    assertEquals(List.of(0L, 20L), firstInvokes(result, "decrypt-failed"));
  }

  @Test
  void decryptToAnotherPlaintext_fails() {
    encrypt(1, "p1", "c1", 0, 10);
    decrypt(2, "n2", "decrypt", "c1", 20, EventType.OK, 30, "p2", null);
    finalDecrypts("c1", "p1", 100);
    CheckResult result = encryptDecrypt();
    assertEquals(1, result.anomalies("wrong-plaintext").size(), result.toString());
  }

  @Test
  void finalReDecryptFailingOnOneNode_fails_andMissingOnOne_isUnknown() {
    encrypt(1, "p1", "c1", 0, 10);
    decrypt(20, "n1", "final-decrypt", "c1", 100, EventType.OK, 101, "p1", null);
    decrypt(21, "n2", "final-decrypt", "c1", 102, EventType.FAIL, 103, null, "DATA_LOSS");
    CheckResult failed = encryptDecrypt();
    assertEquals(1, failed.anomalies("final-decrypt-failed").size(), failed.toString());

    SyntheticHistory missing = new SyntheticHistory();
    missing.ok(1, "encrypt", "k", "{\"plaintext\":\"p1\"}", 0, 10, "{\"ciphertext\":\"c1\"}");
    CheckResult unknown =
        new EncryptDecryptChecker(NODES, EncryptDecryptChecker.DEFAULT_RETRIABLE)
            .check(missing.build());
    assertEquals(CheckResult.Verdict.UNKNOWN, unknown.verdict(), unknown.toString());
    assertFalse(unknown.passed());
  }

  private void getVersion(int p, String node, long version, String activatedAt, long t0) {
    String read = "{\"version\":" + version + ",\"activatedAt\":" + activatedAt + "}";
    ok(p, node, "get-version", "k", t0, t0 + 5, read);
  }

  @Test
  void activationTimesAgreeingAndIncreasing_pass() {
    getVersion(1, "n1", 1, "1000", 0);
    getVersion(2, "n2", 1, "\"1970-01-01T00:00:01Z\"", 10);
    getVersion(1, "n1", 2, "2000", 20);
    getVersion(2, "n2", 3, "null", 30); // pending: no activation time yet
    ok(
        3,
        "n3",
        "final-get-version",
        "k",
        40,
        45,
        "[{\"version\":1,\"activatedAt\":1000},{\"version\":2,\"activatedAt\":2000}]");
    CheckResult result = new ActivationTimestampChecker().check(history.build());
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
    assertEquals(2, result.count("versions"));
  }

  @Test
  void twoNodesDisagreeingOnAnActivationTime_fails_andNamesBothReads() {
    getVersion(1, "n1", 1, "1000", 0);
    getVersion(2, "n2", 1, "1001", 10);
    CheckResult result = new ActivationTimestampChecker().check(history.build());
    assertEquals(1, result.count("disagreements"), result.toString());
    assertEquals(List.of(0L, 10L), firstInvokes(result, "disagreement"));
  }

  @Test
  void laterVersionActivatedEarlier_isARegression() {
    getVersion(1, "n1", 1, "5000", 0);
    getVersion(1, "n1", 2, "4000", 10);
    CheckResult result = new ActivationTimestampChecker().check(history.build());
    assertEquals(1, result.count("regressions"), result.toString());
  }

  private void listScheduled(int p, long t0, String rotations) {
    ok(p, "n1", "list-scheduled", "k", t0, t0 + 5, rotations);
  }

  @Test
  void oneRotationPerSlot_passes_andGapsAreCountedAsMissed() {
    listScheduled(1, 0, "[{\"version\":2,\"slot\":1}]");
    listScheduled(1, 10, "[{\"version\":2,\"slot\":1},{\"version\":3,\"slot\":3}]");
    CheckResult result = new ScheduledRotationChecker().check(history.build());
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
    assertEquals(2, result.count("slots"));
    assertEquals(1, result.count("missed"));
  }

  @Test
  void twoRotationsInOneSlot_fail() {
    listScheduled(1, 0, "[{\"version\":2,\"slot\":7}]");
    listScheduled(2, 10, "[{\"version\":2,\"slot\":7},{\"version\":3,\"slot\":7}]");
    CheckResult result = new ScheduledRotationChecker().check(history.build());
    assertEquals(1, result.count("duplicates"), result.toString());
    assertEquals(List.of(0L, 10L), firstInvokes(result, "duplicate-rotation"));
  }

  private void disable(int p, long version, long t0, long t1) {
    op(p, "n1", "disable", "k", "{\"version\":" + version + "}", t0, EventType.OK, t1, null, null);
  }

  private void use(int p, String f, long version, long t0, long t1) {
    ok(p, "n2", f, "k", t0, t1, "{\"version\":" + version + "}");
  }

  @Test
  void useAfterDisableReturned_fails_andConcurrentUse_passes() {
    disable(1, 1, 0, 10);
    use(2, "encrypt", 1, 5, 15); // concurrent with the disable: allowed
    use(3, "decrypt", 2, 20, 30); // another version: allowed
    CheckResult ok = new DisableThenUseChecker().check(history.build());
    assertEquals(CheckResult.Verdict.PASS, ok.verdict(), ok.toString());

    use(3, "decrypt", 1, 40, 50);
    CheckResult failed = new DisableThenUseChecker().check(history.build());
    assertEquals(1, failed.count("violations"), failed.toString());
    assertEquals(List.of(0L, 40L), firstInvokes(failed, "use-after-disable"));
  }

  @Test
  void useAfterDisable_isExcusedByALaterEnable() {
    disable(1, 1, 0, 10);
    op(2, "n1", "enable", "k", "{\"version\":1}", 20, EventType.INFO, 30, null, "UNAVAILABLE");
    use(3, "encrypt", 1, 40, 50);
    CheckResult result = new DisableThenUseChecker().check(history.build());
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
  }

  private void status(int p, String node, long index, String digest, long t0) {
    String reported = "{\"appliedIndex\":" + index + ",\"digest\":\"" + digest + "\"}";
    ok(p, node, "final-status", null, t0, t0 + 1, reported);
  }

  @Test
  void equalAppliedIndexAndDigest_converge() {
    status(1, "n1", 5431, "ab", 0);
    status(2, "n2", 5431, "ab", 0);
    CheckResult result = new ConvergenceChecker(NODES).check(history.build());
    assertEquals(CheckResult.Verdict.PASS, result.verdict(), result.toString());
  }

  @Test
  void differentDigestsAtOneIndex_fail_andAMissingNode_isUnknown() {
    status(1, "n1", 5431, "ab", 0);
    status(2, "n2", 5431, "cd", 0);
    CheckResult diverged = new ConvergenceChecker(NODES).check(history.build());
    assertEquals(1, diverged.anomalies("digest-differs").size(), diverged.toString());

    CheckResult missing = new ConvergenceChecker(Set.of("n1", "n2", "n3")).check(history.build());
    assertEquals(CheckResult.Verdict.FAIL, missing.verdict(), "the divergence still fails");
    assertEquals(1, missing.unknownReasons().size());
  }

  @Test
  void differentAppliedIndexes_fail() {
    status(1, "n1", 5431, "ab", 0);
    status(2, "n2", 5430, "ab", 0);
    CheckResult result = new ConvergenceChecker(NODES).check(history.build());
    assertEquals(1, result.anomalies("applied-index-differs").size(), result.toString());
  }
}
