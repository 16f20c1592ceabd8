package io.keyrotor.chaos.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.chaos.history.Operation;
import java.util.List;

/** What the checkers' tests read from a result. */
final class CheckResults {
  private CheckResults() {}

  /** When each operation the first anomaly of {@code kind} names was invoked, in its order. */
  static List<Long> firstInvokes(CheckResult result, String kind) {
    return result.anomalies(kind).get(0).operations().stream().map(Operation::invokeNanos).toList();
  }

  /**
   * Asserts that {@code result} counts one {@code kind} and that its anomaly names the operations
   * invoked at {@code invokes}, in this order.
   */
  static void assertOneAnomaly(CheckResult result, String kind, Long... invokes) {
    assertEquals(1, result.count(kind), result.toString());
    assertEquals(List.of(invokes), firstInvokes(result, kind));
  }
}
