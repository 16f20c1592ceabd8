package io.keyrotor.chaos.checker;

import com.google.gson.JsonElement;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Workload W5: the leader's scheduler rotates each key at most once per schedule slot, across
 * failovers and clock faults. Reads ({@code list-scheduled}, {@code final-list-scheduled}) answer
 * {@code ok} with an array of {@code {"version": v, "slot": s}}: the versions created by scheduled
 * rotation, with the slot each was proposed for.
 *
 * <ul>
 *   <li><b>duplicate-rotation</b>: no two distinct versions of a key carry the same slot;
 *   <li>{@code missed} counts slots between the first and last observed one with no rotation; it is
 *       informational (soft liveness needs the periods without a majority, which the runner knows).
 * </ul>
 *
 * <p>O(n log n).
 */
public final class ScheduledRotationChecker {
  public static final Set<String> READS = Set.of("list-scheduled", "final-list-scheduled");

  /** Checks the history. */
  public CheckResult check(History history) {
    CheckResult.Builder result = CheckResult.builder("W5 scheduled rotation");
    long slots = 0;
    long duplicates = 0;
    long missed = 0;
    for (Map.Entry<String, List<Operation>> entry : history.operationsByKey().entrySet()) {
      TreeMap<Long, Map<Long, Operation>> versionsBySlot = new TreeMap<>();
      for (Operation op : entry.getValue()) {
        if (!op.isOk() || !READS.contains(op.f())) {
          continue;
        }
        for (JsonElement rotation : JsonValues.objects(op.outputOrNull())) {
          Long version = JsonValues.longOrNull(rotation, "version");
          Long slot = JsonValues.longOrNull(rotation, "slot");
          if (version != null && slot != null) {
            versionsBySlot
                .computeIfAbsent(slot, s -> new LinkedHashMap<>())
                .putIfAbsent(version, op);
          }
        }
      }
      slots += versionsBySlot.size();
      if (!versionsBySlot.isEmpty()) {
        missed += versionsBySlot.lastKey() - versionsBySlot.firstKey() + 1 - versionsBySlot.size();
      }
      for (Map.Entry<Long, Map<Long, Operation>> slot : versionsBySlot.entrySet()) {
        if (slot.getValue().size() > 1) {
          duplicates++;
          result.anomaly(
              Anomaly.of(
                  "duplicate-rotation",
                  entry.getKey(),
                  "slot "
                      + slot.getKey()
                      + " was rotated "
                      + slot.getValue().size()
                      + " times: versions "
                      + slot.getValue().keySet(),
                  new ArrayList<>(slot.getValue().values()),
                  history.nemesisEvents()));
        }
      }
    }
    result.count("slots", slots);
    result.count("duplicates", duplicates);
    result.count("missed", missed);
    return result.build();
  }
}
