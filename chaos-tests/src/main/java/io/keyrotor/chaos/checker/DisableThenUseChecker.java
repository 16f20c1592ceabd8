package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Workload W6: after a disable of (key, v) returns, no operation that starts later uses v, on any
 * node (promise 2). {@code disable} and {@code enable}: input {@code {"version": v}}. Uses ({@code
 * encrypt}, {@code decrypt}, {@code generate-data-key}, {@code re-encrypt}) answer {@code ok} with
 * {@code {"version": v}} (and {@code "key"} when the operation itself names none, as decrypt).
 *
 * <ul>
 *   <li><b>use-after-disable</b>: a use of (key, v) that succeeded although it was invoked after an
 *       acknowledged disable of (key, v) completed, unless an enable of (key, v) that was not
 *       entirely before the disable, and not failed, was invoked before the use completed (it may
 *       have re-enabled v in between).
 * </ul>
 *
 * <p>O(uses x disables per version).
 */
public final class DisableThenUseChecker {
  public static final String DISABLE = "disable";
  public static final String ENABLE = "enable";
  public static final Set<String> USES =
      Set.of("encrypt", "decrypt", "generate-data-key", "re-encrypt");

  private record KeyVersion(String key, long version) {}

  /** Checks the history. */
  public CheckResult check(History history) {
    CheckResult.Builder result = CheckResult.builder("W6 disable-then-use");
    Map<KeyVersion, List<Operation>> disables = new HashMap<>();
    Map<KeyVersion, List<Operation>> enables = new HashMap<>();
    List<Operation> uses = new ArrayList<>();
    for (Operation op : history.operations()) {
      if ((op.f().equals(DISABLE) || op.f().equals(ENABLE)) && op.keyOrNull() != null) {
        Long version = JsonValues.longOrNull(op.inputOrNull(), "version");
        if (version == null || op.isFail()) {
          continue;
        }
        KeyVersion keyVersion = new KeyVersion(op.keyOrNull(), version);
        if (op.f().equals(DISABLE) && op.isOk()) {
          disables.computeIfAbsent(keyVersion, k -> new ArrayList<>()).add(op);
        } else if (op.f().equals(ENABLE)) {
          enables.computeIfAbsent(keyVersion, k -> new ArrayList<>()).add(op);
        }
      } else if (USES.contains(op.f()) && op.isOk()) {
        uses.add(op);
      }
    }
    long checked = 0;
    long violations = 0;
    for (Operation use : uses) {
      String key =
          use.keyOrNull() != null
              ? use.keyOrNull()
              : JsonValues.stringOrNull(use.outputOrNull(), "key");
      Long version = JsonValues.longOrNull(use.outputOrNull(), "version");
      if (key == null || version == null) {
        continue;
      }
      KeyVersion keyVersion = new KeyVersion(key, version);
      List<Operation> disabled = disables.getOrDefault(keyVersion, List.of());
      if (disabled.isEmpty()) {
        continue;
      }
      checked++;
      for (Operation disable : disabled) {
        if (!disable.precedes(use)) {
          continue;
        }
        boolean excused =
            enables.getOrDefault(keyVersion, List.of()).stream()
                .anyMatch(e -> !e.precedes(disable) && e.invokeNanos() < use.completeNanos());
        if (!excused) {
          violations++;
          result.anomaly(
              Anomaly.of(
                  "use-after-disable",
                  key,
                  use.f()
                      + " used version "
                      + version
                      + " although it was invoked after the disable of that version returned",
                  List.of(disable, use),
                  history.nemesisEvents()));
          break;
        }
      }
    }
    result.count("disables", disables.values().stream().mapToLong(List::size).sum());
    result.count("uses-checked", checked);
    result.count("violations", violations);
    return result.build();
  }
}
