package io.keyrotor.chaos.checker.linearizability;

import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker.KeyVerdict;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Shrinks a non-linearizable set of operations while it stays ILLEGAL, removing only operations
 * whose removal preserves linearizability (pure observers; writes of unique values nothing left
 * observes or expects, when no inequality observer is left), so the result is itself a proof of the
 * anomaly.
 */
final class CounterexampleShrinker<S, I, O> {
  private final Model<S, I, O> model;
  private final WglSearch<S, I, O> search;
  private final int cacheLimit;

  CounterexampleShrinker(Model<S, I, O> model, WglSearch<S, I, O> search, int cacheLimit) {
    this.model = model;
    this.search = search;
    this.cacheLimit = cacheLimit;
  }

  /**
   * Greedily removes chunks of operations (halving the chunk size when nothing can go) while the
   * rest stays ILLEGAL, within the deadline. Returns what is left, in invocation order.
   */
  List<LinearizableOperation<I, O>> shrink(
      List<LinearizableOperation<I, O>> illegal, long deadlineNanos) {
    List<LinearizableOperation<I, O>> current = new ArrayList<>(illegal);
    int chunk = Math.max(1, current.size() / 2);
    while (System.nanoTime() < deadlineNanos) {
      boolean removedAny = false;
      for (int end = current.size(); end > 0 && System.nanoTime() < deadlineNanos; end -= chunk) {
        int start = Math.max(0, end - chunk);
        Set<LinearizableOperation<I, O>> removal =
            removable(current, new LinkedHashSet<>(current.subList(start, end)));
        if (removal.isEmpty()) {
          continue;
        }
        List<LinearizableOperation<I, O>> candidate = new ArrayList<>(current);
        candidate.removeAll(removal);
        long subDeadline = Math.min(deadlineNanos, System.nanoTime() + 500_000_000L);
        if (search.run(candidate, subDeadline, cacheLimit).verdict() == KeyVerdict.ILLEGAL) {
          current = candidate;
          removedAny = true;
        }
      }
      if (!removedAny) {
        if (chunk == 1) {
          break;
        }
        chunk = Math.max(1, chunk / 2);
      }
    }
    current.sort(
        Comparator.comparingLong((LinearizableOperation<I, O> o) -> o.invokeNanos())
            .thenComparingInt(LinearizableOperation::id));
    return List.copyOf(current);
  }

  /**
   * The subset of {@code candidates} that can be removed from {@code all} without turning a
   * linearizable history into a non-linearizable one: operations that never change the state, and
   * writes of a value written only once that no remaining operation observes or expects, if no
   * remaining operation observes an inequality.
   */
  private Set<LinearizableOperation<I, O>> removable(
      List<LinearizableOperation<I, O>> all, Set<LinearizableOperation<I, O>> candidates) {
    Map<Object, Integer> writers = IndeterminatePruning.writerCounts(model, all);
    Set<LinearizableOperation<I, O>> removal = new LinkedHashSet<>(candidates);
    boolean changed = true;
    while (changed) {
      changed = false;
      Set<Object> referenced = new HashSet<>();
      boolean inequality = false;
      for (LinearizableOperation<I, O> op : all) {
        if (removal.contains(op)) {
          continue;
        }
        model.expectedValue(op.input()).ifPresent(referenced::add);
        if (op.outputKnown()) {
          model.observedValue(op.input(), op.output()).ifPresent(referenced::add);
          inequality |= model.observesInequality(op.input(), op.output());
        }
      }
      for (var iterator = removal.iterator(); iterator.hasNext(); ) {
        LinearizableOperation<I, O> op = iterator.next();
        if (!model.mayChangeState(op.input(), op.output(), op.outputKnown())) {
          continue;
        }
        Optional<Object> written = model.writtenValue(op.input(), op.output(), op.outputKnown());
        boolean removableWrite =
            written.isPresent()
                && writers.get(written.get()) == 1
                && !written.get().equals(model.init())
                && !referenced.contains(written.get())
                && !inequality;
        if (!removableWrite) {
          iterator.remove();
          changed = true;
        }
      }
    }
    return removal;
  }
}
