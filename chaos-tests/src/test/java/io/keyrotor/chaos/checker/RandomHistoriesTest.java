package io.keyrotor.chaos.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import io.keyrotor.chaos.checker.RegisterSimulation.Kind;
import io.keyrotor.chaos.checker.RegisterSimulation.Mutation;
import io.keyrotor.chaos.checker.RegisterSimulation.SimOp;
import io.keyrotor.chaos.checker.linearizability.CasRegisterModel;
import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker;
import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker.Budget;
import io.keyrotor.chaos.checker.linearizability.RegisterModel;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Histories from a seeded simulation of a correct store with concurrent clients and timeouts must
 * PASS every applicable checker; the same histories mutated (a stale read, a dropped write, a write
 * moved after its observer) must FAIL, naming the mutated operations.
 */
class RandomHistoriesTest {
  private static final long BASE_SEED = 0x5EED_7F3AL;
  private static final int SEEDS = 12;
  private static final Budget BUDGET =
      new Budget(Duration.ofSeconds(10), 500_000, Duration.ofSeconds(2));

  private static CheckResult wglRegister(History history) {
    return LinearizabilityCheck.check(
        "register (WGL)",
        new LinearizabilityChecker<>(new RegisterModel(null), BUDGET, 2),
        RegisterWorkload.operations(history),
        history.nemesisEvents());
  }

  private static CheckResult wglPrimary(History history) {
    return LinearizabilityCheck.check(
        "W2 primary (WGL)",
        new LinearizabilityChecker<>(new CasRegisterModel(1L), BUDGET, 2),
        PrimaryRegisterWorkload.operations(history, false),
        history.nemesisEvents());
  }

  private static CheckResult versioned(History history) {
    return new VersionedRegisterChecker(VersionedRegisterChecker.primaryRegister(1L))
        .check(history);
  }

  private static List<SimOp> simulate(long seed, Kind kind) {
    return RegisterSimulation.run(seed, kind, 6, 3, 60, 0.08);
  }

  private static String message(long seed, String what, CheckResult result) {
    return String.format("seed=0x%X %s: %s", seed, what, result);
  }

  @Test
  void simulatedRegisterHistories_pass() {
    for (int i = 0; i < SEEDS; i++) {
      long seed = BASE_SEED + i;
      History history = RegisterSimulation.history(simulate(seed, Kind.REGISTER));
      CheckResult result = wglRegister(history);
      assertEquals(CheckResult.Verdict.PASS, result.verdict(), message(seed, "register", result));
      assertEquals(3, result.count("ok"), message(seed, "register", result));
    }
  }

  @Test
  void simulatedPrimaryHistories_passBothTheRevisionCheckAndWgl() {
    for (int i = 0; i < SEEDS; i++) {
      long seed = BASE_SEED + 100 + i;
      History history = RegisterSimulation.history(simulate(seed, Kind.CAS_REGISTER));
      CheckResult wgl = wglPrimary(history);
      assertEquals(CheckResult.Verdict.PASS, wgl.verdict(), message(seed, "WGL", wgl));
      CheckResult revisions = versioned(history);
      assertEquals(CheckResult.Verdict.PASS, revisions.verdict(), message(seed, "rev", revisions));
    }
  }

  @Test
  void simulatedRotationHistories_passTheListChecker() {
    for (int i = 0; i < SEEDS; i++) {
      long seed = BASE_SEED + 200 + i;
      History history = RegisterSimulation.history(simulate(seed, Kind.LIST));
      CheckResult result = AppendOnlyListChecker.rotations().check(history);
      assertEquals(CheckResult.Verdict.PASS, result.verdict(), message(seed, "list", result));
    }
  }

  /** Whether the operation's input or output mentions {@code value}. */
  private static boolean mentions(Operation op, long value) {
    for (JsonElement element : new JsonElement[] {op.inputOrNull(), op.outputOrNull()}) {
      if (element == null) {
        continue;
      }
      if (element.isJsonPrimitive() && element.getAsLong() == value) {
        return true;
      }
      if (element.isJsonObject()) {
        for (String field : List.of("version", "expected")) {
          JsonElement number = element.getAsJsonObject().get(field);
          if (number != null && number.getAsLong() == value) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static void assertNamesCulprits(long seed, CheckResult result, Mutation mutation) {
    List<Operation> named =
        result.anomalies().stream().flatMap(a -> a.operations().stream()).toList();
    String context =
        String.format(
            "seed=0x%X %s: the anomalies %s should name %s and an operation on value %s",
            seed,
            mutation.description(),
            result.anomalies(),
            mutation.culprits(),
            mutation.valueOrNull());
    Set<Long> namedInvokes = named.stream().map(Operation::invokeNanos).collect(Collectors.toSet());
    for (SimOp culprit : mutation.culprits()) {
      assertTrue(namedInvokes.contains(culprit.invoke()), context);
    }
    if (mutation.valueOrNull() != null) {
      assertTrue(named.stream().anyMatch(op -> mentions(op, mutation.valueOrNull())), context);
    }
  }

  private void mutatedFail(
      Kind kind,
      long seedOffset,
      Function<List<SimOp>, Mutation> mutate,
      List<Function<History, CheckResult>> checkers) {
    int mutated = 0;
    for (int i = 0; i < SEEDS; i++) {
      long seed = BASE_SEED + seedOffset + i;
      Mutation mutation = mutate.apply(simulate(seed, kind));
      if (mutation == null) {
        continue;
      }
      mutated++;
      History history = RegisterSimulation.history(mutation.ops());
      for (Function<History, CheckResult> checker : checkers) {
        CheckResult result = checker.apply(history);
        assertEquals(
            CheckResult.Verdict.FAIL,
            result.verdict(),
            message(seed, mutation.description(), result));
        assertNamesCulprits(seed, result, mutation);
      }
    }
    assertTrue(mutated >= SEEDS / 2, "too few histories could be mutated: " + mutated);
  }

  @Test
  void registerWithAStaleRead_fails() {
    mutatedFail(
        Kind.REGISTER,
        300,
        RegisterSimulation::staleRead,
        List.of(RandomHistoriesTest::wglRegister));
  }

  @Test
  void registerWithADroppedWrite_fails() {
    mutatedFail(
        Kind.REGISTER,
        400,
        RegisterSimulation::dropWrite,
        List.of(RandomHistoriesTest::wglRegister));
  }

  @Test
  void registerWithAWriteMovedAfterItsObserver_fails() {
    mutatedFail(
        Kind.REGISTER,
        500,
        ops -> RegisterSimulation.writeAfterObserver(ops, false),
        List.of(RandomHistoriesTest::wglRegister));
  }

  @Test
  void registerWithAnIndeterminateWriteObservedBeforeItsInvocation_fails() {
    mutatedFail(
        Kind.REGISTER,
        600,
        ops -> RegisterSimulation.writeAfterObserver(ops, true),
        List.of(RandomHistoriesTest::wglRegister));
  }

  @Test
  void primaryWithAStaleRead_failsWglAndTheRevisionCheck() {
    mutatedFail(
        Kind.CAS_REGISTER,
        700,
        RegisterSimulation::staleRead,
        List.of(RandomHistoriesTest::wglPrimary, RandomHistoriesTest::versioned));
  }

  @Test
  void primaryWithADroppedWrite_failsWglAndTheRevisionCheck() {
    mutatedFail(
        Kind.CAS_REGISTER,
        800,
        RegisterSimulation::dropWrite,
        List.of(RandomHistoriesTest::wglPrimary, RandomHistoriesTest::versioned));
  }

  @Test
  void primaryWithAWriteMovedAfterItsObserver_failsWglAndTheRevisionCheck() {
    mutatedFail(
        Kind.CAS_REGISTER,
        900,
        ops -> RegisterSimulation.writeAfterObserver(ops, false),
        List.of(RandomHistoriesTest::wglPrimary, RandomHistoriesTest::versioned));
  }

  @Test
  void rotationsWithAReadMissingAnAcknowledgedVersion_fail() {
    mutatedFail(
        Kind.LIST,
        1000,
        RegisterSimulation::truncatedListRead,
        List.of(history -> AppendOnlyListChecker.rotations().check(history)));
  }

  @Test
  void primaryWithTwoCompareAndSetsFromOneValue_isCaughtByWglAndTheRevisionCheck() {
    History history =
        new io.keyrotor.chaos.history.SyntheticHistory()
            .okRev(1, "activate", "k", "{\"version\":2,\"expected\":1}", 0, 10, null, 6)
            .okRev(2, "activate", "k", "{\"version\":3,\"expected\":1}", 20, 30, null, 7)
            .okRev(3, "get-primary", "k", null, 40, 50, "{\"version\":3}", 7)
            .build();
    CheckResult wgl = wglPrimary(history);
    assertEquals(CheckResult.Verdict.FAIL, wgl.verdict(), wgl.toString());
    assertEquals(
        List.of(0L, 20L),
        wgl.anomalies().get(0).operations().stream().map(Operation::invokeNanos).toList());
    assertEquals(1, versioned(history).count("lost-update"));
  }

  @Test
  void simulationIsDeterministicForASeed() {
    assertEquals(simulate(BASE_SEED, Kind.CAS_REGISTER), simulate(BASE_SEED, Kind.CAS_REGISTER));
    assertNotNull(RegisterSimulation.staleRead(simulate(BASE_SEED, Kind.REGISTER)));
  }
}
