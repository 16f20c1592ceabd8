package io.keyrotor.chaos.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import io.keyrotor.chaos.history.SyntheticHistory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Verdicts are derived: anomalies fail, doubts are UNKNOWN, and UNKNOWN is never a pass. */
class CheckResultTest {
  @Test
  void noAnomaliesAndNoDoubts_isPass() {
    assertTrue(CheckResult.builder("c").count("ops", 0).build().passed());
  }

  @Test
  void doubt_isUnknown_andNotAPass() {
    CheckResult result = CheckResult.builder("c").unknown("budget").build();
    assertEquals(CheckResult.Verdict.UNKNOWN, result.verdict());
    assertFalse(result.passed());
  }

  @Test
  void anomaly_isFail_evenWithDoubts() {
    Anomaly anomaly = Anomaly.of("stale-read", "k", "why", List.of(), List.of());
    CheckResult result = CheckResult.builder("c").unknown("budget").anomaly(anomaly).build();
    assertEquals(CheckResult.Verdict.FAIL, result.verdict());
  }

  @Test
  void anomaly_keepsAtMostTwentyOperations_inInvocationOrder_andCountsTheRest() {
    SyntheticHistory builder = new SyntheticHistory();
    for (int i = 0; i < 25; i++) {
      builder.ok(i, "read", "k", null, 100 - i, 200, "1");
    }
    History history = builder.build();
    List<Operation> reversed = new ArrayList<>(history.operations());
    java.util.Collections.reverse(reversed);
    Anomaly anomaly = Anomaly.of("x", "k", "why", reversed, history.nemesisEvents());
    assertEquals(Anomaly.MAX_OPERATIONS, anomaly.operations().size());
    assertEquals(5, anomaly.omittedOperations());
    assertEquals(76, anomaly.operations().get(0).invokeNanos());
    assertThrows(
        IllegalArgumentException.class,
        () -> new Anomaly("x", "k", "why", history.operations(), 0, List.of()));
  }
}
