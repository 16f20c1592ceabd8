package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Final convergence (promise 3): after the final heal, every node reports the same applied index
 * and the same state digest. The runner records one {@code final-status} per node (the last one
 * counts): {@code ok} with {@code {"appliedIndex": n, "digest": "..."}}.
 *
 * <ul>
 *   <li><b>applied-index-differs</b>: the nodes did not converge on one applied index;
 *   <li><b>digest-differs</b>: nodes at the same applied index hold different state (divergence).
 * </ul>
 *
 * <p>A node with no successful report makes the check UNKNOWN (not PASS).
 */
public final class ConvergenceChecker {
  public static final String FINAL_STATUS = "final-status";

  private final Set<String> nodes;

  public ConvergenceChecker(Set<String> nodes) {
    this.nodes = new TreeSet<>(nodes);
  }

  /** Checks the history. */
  public CheckResult check(History history) {
    CheckResult.Builder result = CheckResult.builder("final convergence");
    Map<String, Operation> lastStatus = new TreeMap<>();
    for (Operation op : history.operations()) {
      if (op.f().equals(FINAL_STATUS) && op.isOk() && op.nodeOrNull() != null) {
        lastStatus.put(op.nodeOrNull(), op);
      }
    }
    for (String node : nodes) {
      if (!lastStatus.containsKey(node)) {
        result.unknown("no final status from " + node);
      }
    }
    Map<Long, List<Operation>> byIndex = new TreeMap<>();
    for (Operation op : lastStatus.values()) {
      Long index = JsonValues.longOrNull(op.outputOrNull(), "appliedIndex");
      if (index == null) {
        result.unknown("final status of " + op.nodeOrNull() + " has no appliedIndex");
        continue;
      }
      byIndex.computeIfAbsent(index, i -> new ArrayList<>()).add(op);
    }
    if (byIndex.size() > 1) {
      reportGroups(
          result,
          history,
          "applied-index-differs",
          "nodes ended at different applied indexes: " + describe(byIndex),
          byIndex);
    }
    long digestMismatches = 0;
    for (Map.Entry<Long, List<Operation>> index : byIndex.entrySet()) {
      Map<String, List<Operation>> byDigest = new TreeMap<>();
      for (Operation op : index.getValue()) {
        String digest = JsonValues.stringOrNull(op.outputOrNull(), "digest");
        byDigest.computeIfAbsent(String.valueOf(digest), d -> new ArrayList<>()).add(op);
      }
      if (byDigest.size() > 1) {
        digestMismatches++;
        reportGroups(
            result,
            history,
            "digest-differs",
            "nodes at applied index " + index.getKey() + " hold different state digests",
            byDigest);
      }
    }
    result.count("nodes", lastStatus.size());
    result.count("applied-indexes", byIndex.size());
    result.count("digest-mismatches", digestMismatches);
    if (byIndex.size() == 1 && digestMismatches == 0 && !lastStatus.isEmpty()) {
      result.detail(
          "appliedIndex="
              + byIndex.keySet().iterator().next()
              + " on "
              + String.join(",", lastStatus.keySet())
              + "; digests equal");
    }
    return result.build();
  }

  /** An anomaly showing the first operation of each group of statuses that disagree. */
  private static void reportGroups(
      CheckResult.Builder result,
      History history,
      String kind,
      String explanation,
      Map<?, List<Operation>> groups) {
    List<Operation> shown = new ArrayList<>();
    groups.values().forEach(ops -> shown.add(ops.get(0)));
    result.anomaly(Anomaly.of(kind, null, explanation, shown, history.nemesisEvents()));
  }

  /** "n2 (FOLLOWER, leader none)": the node with the role and leader it reported. */
  private static String node(Operation op) {
    String role = JsonValues.stringOrNull(op.outputOrNull(), "role");
    if (role == null) {
      return op.nodeOrNull();
    }
    String leader = JsonValues.stringOrNull(op.outputOrNull(), "leader");
    return op.nodeOrNull()
        + " ("
        + role
        + ", leader "
        + (leader == null || leader.isEmpty() ? "none" : leader)
        + ")";
  }

  private static String describe(Map<Long, List<Operation>> byIndex) {
    StringBuilder text = new StringBuilder();
    byIndex.forEach(
        (index, ops) -> {
          if (text.length() > 0) {
            text.append(", ");
          }
          text.append(index)
              .append(" on ")
              .append(ops.stream().map(ConvergenceChecker::node).toList());
        });
    return text.toString();
  }
}
