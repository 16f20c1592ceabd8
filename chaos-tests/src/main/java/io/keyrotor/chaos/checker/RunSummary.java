package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.history.Event;
import io.keyrotor.chaos.history.EventType;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a run prints at the end (chaos-tests/README.md, "Verdicts"): a header with the seed, the
 * environment lines the runner supplies, operation and nemesis counts, one line per check (PASS /
 * FAIL / UNKNOWN with its counts), the positive control, the overall result; and for each failed or
 * inconclusive check its anomalies (key, kind, the relevant operations with node, process, t and
 * rev, the nemesis events around them) and the command that re-runs the seed.
 *
 * <p>The overall result is PASS only if every check passed and the positive control (if any) was
 * detected; FAIL if any check failed or the control was not detected; otherwise INCONCLUSIVE, which
 * is not a pass either.
 */
public final class RunSummary {
  /** How many anomalies are printed per check (all are counted). */
  public static final int ANOMALIES_PRINTED_PER_CHECK = 5;

  /** The overall result. */
  public enum Result {
    PASS,
    FAIL,
    INCONCLUSIVE
  }

  /**
   * Identifies a run.
   *
   * @param runId the run's name (also its artifact directory name)
   * @param seed the generator's seed
   * @param profile for example "netns-smoke/A"
   * @param nodes the cluster size
   * @param duration the workload's length
   * @param artifacts where the run wrote history.jsonl and the rest
   * @param rerunCommand the exact command that runs this seed again
   * @param environment extra header lines (kernel and capabilities, Ratis settings, ...)
   */
  public record Run(
      String runId,
      long seed,
      String profile,
      int nodes,
      Duration duration,
      String artifacts,
      String rerunCommand,
      List<String> environment) {
    public Run {
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(profile, "profile");
      Objects.requireNonNull(duration, "duration");
      Objects.requireNonNull(artifacts, "artifacts");
      Objects.requireNonNull(rerunCommand, "rerunCommand");
      environment = List.copyOf(environment);
    }
  }

  private final Run run;
  private final History history;
  private final List<CheckResult> checks;
  private final CheckResult positiveControlOrNull;

  /**
   * A summary of {@code checks} over {@code history}. {@code positiveControlOrNull} is the result
   * of checking the deliberately unsafe run, which must FAIL (null: no control in this profile).
   */
  public RunSummary(
      Run run, History history, List<CheckResult> checks, CheckResult positiveControlOrNull) {
    this.run = Objects.requireNonNull(run, "run");
    this.history = Objects.requireNonNull(history, "history");
    this.checks = List.copyOf(checks);
    this.positiveControlOrNull = positiveControlOrNull;
  }

  /** Whether the positive control was caught (true if there is none). */
  private boolean controlDetected() {
    return positiveControlOrNull == null
        || positiveControlOrNull.verdict() == CheckResult.Verdict.FAIL;
  }

  /** The overall result. */
  public Result result() {
    boolean failed =
        checks.stream().anyMatch(c -> c.verdict() == CheckResult.Verdict.FAIL)
            || !controlDetected();
    if (failed) {
      return Result.FAIL;
    }
    return checks.stream().allMatch(CheckResult::passed) ? Result.PASS : Result.INCONCLUSIVE;
  }

  /** True only for {@link Result#PASS}. */
  public boolean passed() {
    return result() == Result.PASS;
  }

  /** The text printed at the end of a run. */
  public String render() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "=== chaos run %s  seed=0x%X  profile=%s  nodes=%d  %ds ===%n",
            run.runId(),
            run.seed(),
            run.profile(),
            run.nodes(),
            run.duration().toSeconds()));
    for (String line : run.environment()) {
      out.append(line).append('\n');
    }
    out.append(operationsLine()).append('\n');
    out.append(nemesisLine()).append('\n');
    for (CheckResult check : checks) {
      out.append(checkLine(check)).append('\n');
    }
    out.append(String.format(Locale.ROOT, "%-33s %s%n", "positive control", controlText()));
    Result result = result();
    out.append("RESULT: ").append(result);
    if (result == Result.INCONCLUSIVE) {
      out.append(" (not a pass: reduce ops-per-key or fix the harness)");
    }
    out.append("   artifacts: ").append(run.artifacts()).append('\n');
    List<CheckResult> explained = new ArrayList<>();
    for (CheckResult check : checks) {
      if (!check.passed()) {
        explained.add(check);
      }
    }
    if (positiveControlOrNull != null && !controlDetected()) {
      explained.add(positiveControlOrNull);
    }
    for (CheckResult check : explained) {
      out.append('\n').append("--- ").append(check.name()).append(": ");
      out.append(check.verdict()).append('\n');
      int printed = 0;
      for (Anomaly anomaly : check.anomalies()) {
        if (printed++ == ANOMALIES_PRINTED_PER_CHECK) {
          out.append("  (")
              .append(check.anomalies().size() - ANOMALIES_PRINTED_PER_CHECK)
              .append(" more anomalies in anomalies.json)\n");
          break;
        }
        out.append("  ").append(anomaly.describe());
      }
      for (String reason : check.unknownReasons()) {
        out.append("  unknown: ").append(reason).append('\n');
      }
      if (check == positiveControlOrNull) {
        out.append("  the unsafe configuration was not caught: the harness is blind\n");
      }
    }
    if (result != Result.PASS) {
      out.append('\n').append("re-run: ").append(run.rerunCommand()).append('\n');
    }
    return out.toString();
  }

  private String controlText() {
    if (positiveControlOrNull == null) {
      return "n/a";
    }
    if (controlDetected()) {
      return "PASS  unsafe configuration caught: "
          + positiveControlOrNull.anomalies().size()
          + " anomalies ("
          + positiveControlOrNull.name()
          + ")";
    }
    return "FAIL  unsafe configuration NOT caught (" + positiveControlOrNull.verdict() + ")";
  }

  private String operationsLine() {
    List<Operation> operations = history.operations();
    long ok = operations.stream().filter(Operation::isOk).count();
    long fail = operations.stream().filter(Operation::isFail).count();
    long info = operations.stream().filter(Operation::isIndeterminate).count();
    Map<String, List<Operation>> byKey = history.operationsByKey();
    int maxPerKey = byKey.values().stream().mapToInt(List::size).max().orElse(0);
    return String.format(
        Locale.ROOT,
        "ops: invoked %d | ok %d | fail %d | info %d (%.1f%%) | keys %d (max %d ops/key)",
        operations.size(),
        ok,
        fail,
        info,
        operations.isEmpty() ? 0.0 : 100.0 * info / operations.size(),
        byKey.size(),
        maxPerKey);
  }

  private String nemesisLine() {
    List<Event> journal = history.nemesisEvents();
    boolean anyInvoke = journal.stream().anyMatch(e -> e.type() == EventType.INVOKE);
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Event event : journal) {
      if (!anyInvoke || event.type() == EventType.INVOKE) {
        counts.merge(event.f(), 1, Integer::sum);
      }
    }
    if (counts.isEmpty()) {
      return "nemesis: none";
    }
    StringBuilder line = new StringBuilder("nemesis:");
    counts.forEach((f, n) -> line.append(' ').append(f).append('\u00d7').append(n));
    return line.toString();
  }

  /** One line: the name padded, the verdict, the counts as name=value, then the detail. */
  static String checkLine(CheckResult check) {
    StringBuilder line = new StringBuilder();
    line.append(
        String.format(Locale.ROOT, "%-33s %-7s ", "check " + check.name(), check.verdict()));
    List<String> counts = new ArrayList<>();
    check.counts().forEach((name, value) -> counts.add(name + "=" + value));
    line.append(String.join(" ", counts));
    if (check.detailOrNull() != null) {
      line.append("; ").append(check.detailOrNull());
    }
    return line.toString().stripTrailing();
  }
}
