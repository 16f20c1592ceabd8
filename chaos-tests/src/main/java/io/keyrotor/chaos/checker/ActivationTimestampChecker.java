package io.keyrotor.chaos.checker;

import com.google.gson.JsonElement;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Workload W4: activation timestamps are decided once, by the proposer, and replicated. Reads
 * ({@code get-version}, {@code final-get-version}, and {@code list-versions} when it returns
 * objects) answer {@code ok} with {@code {"version": v, "activatedAt": t}} or an array of such
 * objects; t is epoch milliseconds or an RFC 3339 string, null while pending.
 *
 * <ul>
 *   <li><b>disagreement</b>: for each (key, version), every read on every node that saw an
 *       activation time saw the same one;
 *   <li><b>regression</b>: along version order, activation times never decrease (even under clock
 *       bumps and strobes; the state machine clamps them monotonic).
 * </ul>
 *
 * <p>O(n log n). Limits: it proves agreement among the values observed; a replica never read says
 * nothing (the runner's final per-node reads cover every node).
 */
public final class ActivationTimestampChecker {
  public static final Set<String> READS =
      Set.of("get-version", "final-get-version", AppendOnlyListChecker.LIST_VERSIONS);

  private record Observation(Operation op, Instant activatedAt) {}

  /** Checks the history. */
  public CheckResult check(History history) {
    CheckResult.Builder result = CheckResult.builder("W4 activation timestamps");
    long pairs = 0;
    long disagreements = 0;
    long regressions = 0;
    long malformed = 0;
    for (Map.Entry<String, List<Operation>> entry : history.operationsByKey().entrySet()) {
      String key = entry.getKey();
      // version -> distinct activation time -> first observation of it
      TreeMap<Long, Map<Instant, Observation>> byVersion = new TreeMap<>();
      for (Operation op : entry.getValue()) {
        if (!op.isOk() || !READS.contains(op.f())) {
          continue;
        }
        for (JsonElement version : JsonValues.objects(op.outputOrNull())) {
          Long number = JsonValues.longOrNull(version, "version");
          JsonElement at = JsonValues.fieldOrNull(version, "activatedAt");
          if (number == null || at == null) {
            continue;
          }
          Instant instant = instantOrNull(at);
          if (instant == null) {
            malformed++;
            continue;
          }
          byVersion
              .computeIfAbsent(number, v -> new LinkedHashMap<>())
              .putIfAbsent(instant, new Observation(op, instant));
        }
      }
      pairs += byVersion.size();
      Observation previous = null;
      Long previousVersion = null;
      for (Map.Entry<Long, Map<Instant, Observation>> version : byVersion.entrySet()) {
        List<Observation> distinct = new ArrayList<>(version.getValue().values());
        if (distinct.size() > 1) {
          disagreements++;
          result.anomaly(
              Anomaly.of(
                  "disagreement",
                  key,
                  "version "
                      + version.getKey()
                      + " was read with "
                      + distinct.size()
                      + " activation times: "
                      + distinct.stream()
                          .map(o -> o.activatedAt() + " on " + o.op().nodeOrNull())
                          .toList(),
                  distinct.stream().map(Observation::op).toList(),
                  history.nemesisEvents()));
        }
        Observation current = distinct.get(0);
        if (previous != null && current.activatedAt().isBefore(previous.activatedAt())) {
          regressions++;
          result.anomaly(
              Anomaly.of(
                  "regression",
                  key,
                  "version "
                      + version.getKey()
                      + " activated at "
                      + current.activatedAt()
                      + ", before version "
                      + previousVersion
                      + " at "
                      + previous.activatedAt(),
                  List.of(previous.op(), current.op()),
                  history.nemesisEvents()));
        }
        previous = current;
        previousVersion = version.getKey();
      }
    }
    result.count("versions", pairs);
    result.count("disagreements", disagreements);
    result.count("regressions", regressions);
    if (malformed > 0) {
      result.unknown(malformed + " activation times could not be parsed");
    }
    return result.build();
  }

  private static Instant instantOrNull(JsonElement at) {
    if (!at.isJsonPrimitive()) {
      return null;
    }
    if (at.getAsJsonPrimitive().isNumber()) {
      return Instant.ofEpochMilli(at.getAsLong());
    }
    try {
      return Instant.parse(at.getAsString());
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
