package io.keyrotor.chaos.checker.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker.Budget;
import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker.KeyResult;
import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker.KeyVerdict;
import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker.Report;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The WGL search and its pre-processing on hand-written histories (model-level operations). */
class LinearizabilityCheckerTest {
  private static final Budget BUDGET =
      new Budget(Duration.ofSeconds(10), 200_000, Duration.ofSeconds(2));

  private final List<LinearizableOperation<RegisterModel.Input, Object>> ops = new ArrayList<>();
  private final List<LinearizableOperation<CasRegisterModel.Input, Object>> casOps =
      new ArrayList<>();

  private void write(int id, long invoke, long complete, long value) {
    ops.add(
        LinearizableOperation.completed(
            id, "k", invoke, complete, new RegisterModel.Write(value), null));
  }

  private void writeInfo(int id, long invoke, long value) {
    ops.add(LinearizableOperation.indeterminate(id, "k", invoke, new RegisterModel.Write(value)));
  }

  private void read(int id, long invoke, long complete, Long value) {
    ops.add(
        LinearizableOperation.completed(
            id, "k", invoke, complete, new RegisterModel.Read(), value));
  }

  private void cas(int id, long invoke, long complete, long expected, long value, Boolean ok) {
    CasRegisterModel.Input input = new CasRegisterModel.CompareAndSet(expected, value);
    casOps.add(
        ok == null
            ? LinearizableOperation.indeterminate(id, "k", invoke, input)
            : LinearizableOperation.completed(id, "k", invoke, complete, input, ok));
  }

  private void casRead(int id, long invoke, long complete, long value) {
    casOps.add(
        LinearizableOperation.completed(
            id, "k", invoke, complete, new CasRegisterModel.Read(), value));
  }

  private KeyResult<RegisterModel.Input, Object> checkRegister() {
    return checkRegister(BUDGET);
  }

  private KeyResult<RegisterModel.Input, Object> checkRegister(Budget budget) {
    return new LinearizabilityChecker<>(new RegisterModel(null), budget, 1).checkKey("k", ops);
  }

  /**
   * {@code count} writes of unique values, all concurrent, completing from {@code completeFrom}.
   */
  private void concurrentWrites(int count, long completeFrom) {
    for (int i = 0; i < count; i++) {
      write(i, i, completeFrom + i, 100 + i);
    }
  }

  private KeyResult<CasRegisterModel.Input, Object> checkCas(long initial) {
    return new LinearizabilityChecker<>(new CasRegisterModel(initial), BUDGET, 1)
        .checkKey("k", casOps);
  }

  private static <I, O> List<Integer> ids(List<LinearizableOperation<I, O>> operations) {
    return operations.stream().map(LinearizableOperation::id).collect(Collectors.toList());
  }

  @Test
  void sequentialWritesAndReads_areOk() {
    write(0, 0, 10, 1);
    read(1, 20, 30, 1L);
    write(2, 40, 50, 2);
    read(3, 60, 70, 2L);
    assertEquals(KeyVerdict.OK, checkRegister().verdict());
  }

  @Test
  void readConcurrentWithWrite_mayReturnEitherValue() {
    write(0, 0, 10, 1);
    write(1, 20, 100, 2);
    read(2, 30, 40, 2L);
    read(3, 50, 60, 1L); // 2 was already read, and nothing writes 1 again
    assertEquals(KeyVerdict.ILLEGAL, checkRegister().verdict());
    ops.remove(3);
    read(3, 50, 60, 2L);
    read(4, 25, 35, 1L);
    assertEquals(KeyVerdict.OK, checkRegister().verdict());
  }

  @Test
  void staleRead_isIllegal_andTheCounterexampleNamesTheWritesAndTheRead() {
    write(0, 0, 10, 1);
    write(1, 20, 30, 2);
    for (int i = 0; i < 10; i++) {
      read(10 + i, 40 + 20 * i, 50 + 20 * i, 2L);
    }
    read(99, 300, 310, 1L);
    KeyResult<RegisterModel.Input, Object> result = checkRegister();
    assertEquals(KeyVerdict.ILLEGAL, result.verdict());
    assertEquals(List.of(0, 1, 99), ids(result.counterexample()));
    assertEquals(99, result.stuckOrNull().id());
    assertEquals(12, result.longestPrefix().size(), "everything but the stale read linearizes");
  }

  @Test
  void lostWrite_isIllegal() {
    write(0, 0, 10, 1);
    write(1, 20, 30, 2);
    read(2, 40, 50, 1L);
    read(3, 60, 70, 1L);
    KeyResult<RegisterModel.Input, Object> result = checkRegister();
    assertEquals(KeyVerdict.ILLEGAL, result.verdict());
    assertTrue(ids(result.counterexample()).containsAll(List.of(0, 1, 2)));
  }

  @Test
  void readOfUnsetRegister_beforeAnyWrite_isOk_andAfterAWrite_isIllegal() {
    read(0, 0, 10, null);
    write(1, 20, 30, 1);
    assertEquals(KeyVerdict.OK, checkRegister().verdict());
    read(2, 40, 50, null);
    assertEquals(KeyVerdict.ILLEGAL, checkRegister().verdict());
  }

  @Test
  void indeterminateWriteObservedLater_isOk_andIsTightened() {
    write(0, 0, 10, 1);
    writeInfo(1, 20, 2);
    read(2, 30, 40, 1L);
    read(3, 1_000, 1_010, 2L);
    read(4, 2_000, 2_010, 2L);
    KeyResult<RegisterModel.Input, Object> result = checkRegister();
    assertEquals(KeyVerdict.OK, result.verdict());
    assertEquals(1, result.tightened());
  }

  @Test
  void indeterminateWriteObservedBeforeItsInvocation_isIllegal() {
    write(0, 0, 10, 1);
    read(1, 20, 30, 2L);
    writeInfo(2, 40, 2);
    KeyResult<RegisterModel.Input, Object> result = checkRegister();
    assertEquals(KeyVerdict.ILLEGAL, result.verdict());
    assertEquals(
        List.of(1, 2),
        ids(result.counterexample()),
        "a read of a value not yet written, and the write");
  }

  @Test
  void indeterminateWriteObserved_thenOverwrittenValueReadAgain_isIllegal() {
    // Tightening: the info write of 2 happened before read #2 completed, so reading 1 at #3 is
    // stale.
    write(0, 0, 10, 1);
    writeInfo(1, 20, 2);
    read(2, 30, 40, 2L);
    read(3, 50, 60, 1L);
    assertEquals(KeyVerdict.ILLEGAL, checkRegister().verdict());
  }

  @Test
  void indeterminateRead_isDropped() {
    write(0, 0, 10, 1);
    ops.add(LinearizableOperation.indeterminate(1, "k", 20, new RegisterModel.Read()));
    KeyResult<RegisterModel.Input, Object> result = checkRegister();
    assertEquals(KeyVerdict.OK, result.verdict());
    assertEquals(1, result.droppedReads());
  }

  @Test
  void unobservedIndeterminateWrite_withoutInequalityObservers_isDropped() {
    write(0, 0, 10, 1);
    writeInfo(1, 20, 2);
    read(2, 30, 40, 1L);
    KeyResult<RegisterModel.Input, Object> result = checkRegister();
    assertEquals(KeyVerdict.OK, result.verdict());
    assertEquals(1, result.droppedWrites());
  }

  @Test
  void failedCasExplainedOnlyByAnUnobservedIndeterminateWrite_isOk() {
    // state 1; cas 1->2 times out (nobody reads 2); cas 1->3 then fails: only the first explains
    // it.
    cas(0, 0, 0, 1, 2, null);
    cas(1, 20, 30, 1, 3, false);
    KeyResult<CasRegisterModel.Input, Object> result = checkCas(1);
    assertEquals(KeyVerdict.OK, result.verdict());
    assertEquals(0, result.droppedWrites(), "a failed CAS observes the state: keep the write");
  }

  @Test
  void failedCasWithNoPossibleExplanation_isIllegal() {
    cas(0, 20, 30, 1, 3, false);
    KeyResult<CasRegisterModel.Input, Object> result = checkCas(1);
    assertEquals(KeyVerdict.ILLEGAL, result.verdict());
    assertEquals(List.of(0), ids(result.counterexample()));
  }

  @Test
  void chainOfIndeterminateCas_whoseLastValueIsRead_isOk() {
    // 1 -cas?-> 2 -cas?-> 3, and 3 is read: the first CAS's value is only "expected", never read.
    cas(0, 0, 0, 1, 2, null);
    cas(1, 10, 0, 2, 3, null);
    casRead(2, 100, 110, 3);
    KeyResult<CasRegisterModel.Input, Object> result = checkCas(1);
    assertEquals(KeyVerdict.OK, result.verdict());
  }

  @Test
  void casSemantics_successNeedsTheExpectedValue() {
    cas(0, 0, 10, 1, 2, true);
    cas(1, 20, 30, 1, 3, true);
    assertEquals(KeyVerdict.ILLEGAL, checkCas(1).verdict());
    casOps.remove(1);
    cas(1, 20, 30, 2, 3, true);
    casRead(2, 40, 50, 3);
    assertEquals(KeyVerdict.OK, checkCas(1).verdict());
  }

  @Test
  void keysAreCheckedIndependently_inParallel() {
    List<LinearizableOperation<RegisterModel.Input, Object>> all = new ArrayList<>();
    for (int key = 0; key < 6; key++) {
      String name = "key-" + key;
      all.add(
          LinearizableOperation.completed(
              3 * key, name, 0, 10, new RegisterModel.Write((long) key), null));
      all.add(
          LinearizableOperation.completed(
              3 * key + 1, name, 20, 30, new RegisterModel.Read(), (long) key));
      // Key 4 reads a value written only to key 3: per-key pre-processing must not mix them.
      long read = key == 4 ? 3L : key;
      all.add(
          LinearizableOperation.completed(
              3 * key + 2, name, 40, 50, new RegisterModel.Read(), read));
    }
    Report<RegisterModel.Input, Object> report =
        new LinearizabilityChecker<>(new RegisterModel(null), BUDGET, 2).check(all);
    assertEquals(6, report.keys().size());
    assertEquals(5, report.count(KeyVerdict.OK));
    assertEquals(KeyVerdict.ILLEGAL, report.key("key-4").orElseThrow().verdict());
  }

  @Test
  void exceedingTheCacheBudget_isUnknown_notOk() {
    // Many concurrent writes and a contradiction at the end: the search must explore before
    // failing.
    concurrentWrites(14, 1_000);
    read(50, 2_000, 2_010, 999L);
    KeyResult<RegisterModel.Input, Object> result =
        checkRegister(new Budget(Duration.ofSeconds(10), 50, Duration.ZERO));
    assertEquals(KeyVerdict.UNKNOWN, result.verdict());
    assertEquals("cache budget exceeded", result.reasonOrNull());
  }

  @Test
  void exceedingTheTimeBudget_isUnknown() {
    // 60 concurrent writes with unique values and an impossible read: a huge search space.
    concurrentWrites(60, 10_000);
    read(100, 20_000, 20_010, 1L);
    long start = System.nanoTime();
    KeyResult<RegisterModel.Input, Object> result =
        checkRegister(new Budget(Duration.ofMillis(200), Integer.MAX_VALUE, Duration.ZERO));
    assertEquals(KeyVerdict.UNKNOWN, result.verdict());
    assertEquals("time budget exceeded", result.reasonOrNull());
    assertTrue(System.nanoTime() - start < 5_000_000_000L, "the budget bounds the search");
  }

  @Test
  void randomConcurrentWritesWithASequentialReadEach_areOk() {
    long seed = 0x5EED_0001L;
    SplittableRandom random = new SplittableRandom(seed);
    for (int round = 0; round < 20; round++) {
      ops.clear();
      long value = 0;
      long time = 0;
      for (int i = 0; i < 40; i++) {
        long writeInvoke = time + random.nextLong(0, 50);
        write(2 * i, writeInvoke, writeInvoke + random.nextLong(1, 100), ++value);
        time = writeInvoke + 100;
        read(2 * i + 1, time + 1, time + 2, value);
        time += 3;
      }
      KeyResult<RegisterModel.Input, Object> result = checkRegister();
      assertEquals(KeyVerdict.OK, result.verdict(), "seed " + seed + " round " + round);
    }
  }

  @Test
  void longestPrefix_stopsBeforeTheStuckOperation() {
    write(0, 0, 10, 1);
    read(1, 20, 30, 1L);
    write(2, 40, 50, 2);
    read(3, 60, 70, 7L);
    KeyResult<RegisterModel.Input, Object> result = checkRegister();
    assertEquals(KeyVerdict.ILLEGAL, result.verdict());
    assertEquals(List.of(0, 1, 2), ids(result.longestPrefix()));
    assertNotNull(result.stuckOrNull());
    assertEquals(3, result.stuckOrNull().id());
  }
}
