package io.keyrotor.chaos.checker.linearizability;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The per-key pre-processing of {@link LinearizabilityChecker}: indeterminate reads are dropped; an
 * indeterminate write of a value written only once that a completed operation observed is tightened
 * to complete when its first observer completed; an indeterminate write nothing observes or expects
 * is dropped when no completed operation observes an inequality.
 */
final class IndeterminatePruning<S, I, O> {
  /** The operations left, and how many were dropped or tightened. */
  record Pruned<I, O>(
      List<LinearizableOperation<I, O>> operations,
      int droppedReads,
      int droppedWrites,
      int tightened) {}

  private final Model<S, I, O> model;

  IndeterminatePruning(Model<S, I, O> model) {
    this.model = model;
  }

  Pruned<I, O> prune(List<LinearizableOperation<I, O>> operations) {
    int droppedReads = 0;
    List<LinearizableOperation<I, O>> kept = new ArrayList<>();
    for (LinearizableOperation<I, O> op : operations) {
      if (!op.outputKnown() && model.isReadOnly(op.input())) {
        droppedReads++;
      } else {
        kept.add(op);
      }
    }
    Map<Object, Integer> writers = writerCounts(model, kept);
    Map<Object, Long> firstObserverCompletion = new HashMap<>();
    Set<Object> expected = new HashSet<>();
    boolean inequalityObserved = false;
    for (LinearizableOperation<I, O> op : kept) {
      model.expectedValue(op.input()).ifPresent(expected::add);
      if (op.outputKnown()) {
        model
            .observedValue(op.input(), op.output())
            .ifPresent(v -> firstObserverCompletion.merge(v, op.completeNanos(), Math::min));
        inequalityObserved |= model.observesInequality(op.input(), op.output());
      }
    }
    Object initial = model.init();
    int droppedWrites = 0;
    int tightened = 0;
    List<LinearizableOperation<I, O>> result = new ArrayList<>(kept.size());
    for (LinearizableOperation<I, O> op : kept) {
      Optional<Object> written =
          op.outputKnown()
              ? Optional.empty()
              : model.writtenValue(op.input(), op.output(), op.outputKnown());
      if (written.isEmpty()) {
        result.add(op);
        continue;
      }
      Object value = written.get();
      Long observed = firstObserverCompletion.get(value);
      boolean unique = writers.get(value) == 1 && !value.equals(initial);
      if (observed != null && unique && op.neverCompletes() && observed >= op.invokeNanos()) {
        result.add(op.withCompleteNanos(observed));
        tightened++;
      } else if (observed == null && !expected.contains(value) && !inequalityObserved) {
        droppedWrites++;
      } else {
        result.add(op);
      }
    }
    return new Pruned<>(List.copyOf(result), droppedReads, droppedWrites, tightened);
  }

  /** How many of {@code operations} write each value. */
  static <S, I, O> Map<Object, Integer> writerCounts(
      Model<S, I, O> model, List<LinearizableOperation<I, O>> operations) {
    Map<Object, Integer> writers = new HashMap<>();
    for (LinearizableOperation<I, O> op : operations) {
      model
          .writtenValue(op.input(), op.output(), op.outputKnown())
          .ifPresent(v -> writers.merge(v, 1, Integer::sum));
    }
    return writers;
  }
}
