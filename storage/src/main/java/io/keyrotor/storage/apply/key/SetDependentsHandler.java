package io.keyrotor.storage.apply.key;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.SetDependents;
import io.keyrotor.storage.StateReader;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.KeyHandler;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** SetDependents: the keys rotated after this one when it rotates; cycles are refused. */
public final class SetDependentsHandler implements KeyHandler<SetDependents> {
  /** Most dependents a key may declare. */
  public static final int MAX_DEPENDENTS = 256;

  @Override
  public Effects apply(SetDependents change, KeyRecord key, CommandContext context) {
    String name = change.getName();
    List<String> dependents = change.getDependentsList();
    if (dependents.size() > MAX_DEPENDENTS) {
      return context.reject(
          ErrorReason.TOO_MANY_DEPENDENTS,
          Code.INVALID_ARGUMENT,
          "a key has at most " + MAX_DEPENDENTS + " dependents",
          name);
    }
    String previous = null;
    for (String dependent : dependents) {
      if (previous != null && previous.compareTo(dependent) >= 0) {
        return context.reject(
            ErrorReason.INVALID_ARGUMENT,
            Code.INVALID_ARGUMENT,
            "dependents must be unique and sorted",
            name);
      }
      previous = dependent;
      if (dependent.equals(name)) {
        return context.refuse(
            ErrorReason.DEPENDENCY_CYCLE, "key \"" + name + "\" cannot depend on itself", name);
      }
      if (context.state().key(dependent).isEmpty()) {
        return context.reject(
            ErrorReason.DEPENDENT_NOT_FOUND,
            Code.NOT_FOUND,
            "dependent key \"" + dependent + "\" not found",
            name);
      }
    }
    Optional<List<String>> cycle = cycleThrough(context.state(), name, dependents);
    if (cycle.isPresent()) {
      return context.refuse(
          ErrorReason.DEPENDENCY_CYCLE,
          "declaring these dependents would make a cycle: " + String.join(" -> ", cycle.get()),
          name);
    }
    KeyRecord updated =
        key.toBuilder()
            .clearDependents()
            .addAllDependents(dependents)
            .setRevision(context.index())
            .build();
    String detail = "dependents=" + dependents;
    return context.policyChanged(updated, "dependents set", detail);
  }

  /** A path from {@code name} back to itself if it declared {@code dependents}, if one exists. */
  private static Optional<List<String>> cycleThrough(
      StateReader state, String name, List<String> dependents) {
    Map<String, String> parent = new HashMap<>();
    Deque<String> queue = new ArrayDeque<>();
    Set<String> seen = new HashSet<>();
    for (String d : dependents) {
      if (seen.add(d)) {
        parent.put(d, name);
        queue.add(d);
      }
    }
    while (!queue.isEmpty()) {
      String current = queue.poll();
      List<String> next =
          state.key(current).<List<String>>map(KeyRecord::getDependentsList).orElse(List.of());
      for (String n : next) {
        if (n.equals(name)) {
          List<String> path = new ArrayList<>();
          path.add(name);
          for (String p = current; !p.equals(name); p = parent.get(p)) {
            path.add(1, p);
          }
          path.add(name);
          return Optional.of(path);
        }
        if (seen.add(n)) {
          parent.put(n, current);
          queue.add(n);
        }
      }
    }
    return Optional.empty();
  }
}
