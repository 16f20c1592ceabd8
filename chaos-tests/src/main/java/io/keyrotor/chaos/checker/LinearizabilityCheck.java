package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker;
import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker.KeyResult;
import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker.KeyVerdict;
import io.keyrotor.chaos.checker.linearizability.LinearizableOperation;
import io.keyrotor.chaos.checker.linearizability.Model;
import io.keyrotor.chaos.history.Event;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/** Runs the {@link LinearizabilityChecker} and turns its report into a {@link CheckResult}. */
public final class LinearizabilityCheck {
  private LinearizabilityCheck() {}

  /**
   * Checks {@code operations} and reports: PASS if every key is OK; FAIL with one
   * "non-linearizable" anomaly per ILLEGAL key (the shrunk counterexample, the longest linearizable
   * prefix's length and the operation the search was stuck on); otherwise UNKNOWN naming each key
   * whose budget ran out ("inconclusive: reduce ops-per-key").
   */
  public static <S, I, O> CheckResult check(
      String name,
      LinearizabilityChecker<S, I, O> checker,
      Collection<LinearizableOperation<I, O>> operations,
      List<Event> nemesisJournal) {
    LinearizabilityChecker.Report<I, O> report = checker.check(operations);
    return toCheckResult(name, checker.model(), report, nemesisJournal);
  }

  /** The check result for a report. */
  public static <S, I, O> CheckResult toCheckResult(
      String name,
      Model<S, I, O> model,
      LinearizabilityChecker.Report<I, O> report,
      List<Event> nemesisJournal) {
    CheckResult.Builder result = CheckResult.builder(name);
    long operations = report.keys().stream().mapToLong(KeyResult::operations).sum();
    result.count("ops", operations);
    result.count("keys", report.keys().size());
    result.count("ok", report.count(KeyVerdict.OK));
    result.count("illegal", report.count(KeyVerdict.ILLEGAL));
    result.count("unknown", report.count(KeyVerdict.UNKNOWN));
    result.count("tightened", report.keys().stream().mapToLong(KeyResult::tightened).sum());
    result.detail(
        String.format(
            Locale.ROOT,
            "WGL %d/%d keys OK in %.1fs",
            report.count(KeyVerdict.OK),
            report.keys().size(),
            report.elapsed().toMillis() / 1000.0));
    for (KeyResult<I, O> key : report.keys()) {
      if (key.verdict() == KeyVerdict.ILLEGAL) {
        result.anomaly(anomaly(model, key, nemesisJournal));
      } else if (key.verdict() == KeyVerdict.UNKNOWN) {
        result.unknown(
            String.format(
                Locale.ROOT,
                "key %s (%d ops): %s after %.1fs, %d cache entries (inconclusive: reduce"
                    + " ops-per-key)",
                key.key(),
                key.operations(),
                key.reasonOrNull(),
                key.elapsed().toMillis() / 1000.0,
                key.cacheEntries()));
      }
    }
    return result.build();
  }

  private static <S, I, O> Anomaly anomaly(
      Model<S, I, O> model, KeyResult<I, O> key, List<Event> nemesisJournal) {
    StringBuilder explanation = new StringBuilder();
    explanation
        .append("no linearization of ")
        .append(key.searched())
        .append(" operations; the longest linearizable prefix has ")
        .append(key.longestPrefix().size());
    if (!key.longestPrefix().isEmpty()) {
      LinearizableOperation<I, O> last = key.longestPrefix().get(key.longestPrefix().size() - 1);
      explanation.append(" (ending with #").append(last.id()).append(' ');
      explanation.append(model.describe(last.input(), last.output(), last.outputKnown()));
      explanation.append(')');
    }
    LinearizableOperation<I, O> stuck = key.stuckOrNull();
    if (stuck != null) {
      explanation.append("; then stuck on #").append(stuck.id()).append(' ');
      explanation.append(model.describe(stuck.input(), stuck.output(), stuck.outputKnown()));
    }
    List<LinearizableOperation<I, O>> shown = key.counterexample();
    if (shown.isEmpty()) {
      shown = new ArrayList<>();
      if (stuck != null) {
        shown.add(stuck);
      }
      List<LinearizableOperation<I, O>> prefix = key.longestPrefix();
      shown.addAll(prefix.subList(Math.max(0, prefix.size() - 10), prefix.size()));
      explanation.append("; the operations listed are the stuck one and the end of the prefix");
    } else {
      explanation
          .append("; the ")
          .append(shown.size())
          .append(" operations listed are by themselves not linearizable");
    }
    List<Operation> operations = new ArrayList<>();
    for (LinearizableOperation<I, O> op : shown) {
      if (op.sourceOrNull() != null) {
        operations.add(op.sourceOrNull());
      }
    }
    return Anomaly.of(
        "non-linearizable", key.key(), explanation.toString(), operations, nemesisJournal);
  }
}
