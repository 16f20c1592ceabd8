package io.keyrotor.chaos.checker.linearizability;

import io.keyrotor.chaos.history.Operation;
import java.util.Objects;

/**
 * An operation as the linearizability checker sees it: a key, an interval on the driver's clock, a
 * model input and (if known) output.
 *
 * @param id unique within one check (the history operation's id when there is one)
 * @param key the partition; keys are checked independently
 * @param invokeNanos when it was invoked
 * @param completeNanos when it completed, {@link Operation#NEVER} if indeterminate
 * @param input the model input
 * @param output the model output (ignored unless {@code outputKnown})
 * @param outputKnown false for indeterminate operations
 * @param sourceOrNull the history operation, for reports
 */
public record LinearizableOperation<I, O>(
    int id,
    String key,
    long invokeNanos,
    long completeNanos,
    I input,
    O output,
    boolean outputKnown,
    Operation sourceOrNull) {

  public LinearizableOperation {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(input, "input");
    if (completeNanos < invokeNanos) {
      throw new IllegalArgumentException("operation " + id + " completes before its invocation");
    }
    if (completeNanos == Operation.NEVER && outputKnown) {
      throw new IllegalArgumentException("operation " + id + " never completes but has an output");
    }
  }

  /** A completed operation with a known output. */
  public static <I, O> LinearizableOperation<I, O> completed(
      int id, String key, long invokeNanos, long completeNanos, I input, O output) {
    return new LinearizableOperation<>(
        id, key, invokeNanos, completeNanos, input, output, true, null);
  }

  /** An indeterminate operation: it took effect at some point after its invocation, or never. */
  public static <I, O> LinearizableOperation<I, O> indeterminate(
      int id, String key, long invokeNanos, I input) {
    return new LinearizableOperation<>(
        id, key, invokeNanos, Operation.NEVER, input, null, false, null);
  }

  /** Whether its completion is at +infinity. */
  public boolean neverCompletes() {
    return completeNanos == Operation.NEVER;
  }

  /** The same operation with another completion time (the unique-value tightening). */
  LinearizableOperation<I, O> withCompleteNanos(long newCompleteNanos) {
    return new LinearizableOperation<>(
        id, key, invokeNanos, newCompleteNanos, input, output, outputKnown, sourceOrNull);
  }

  /** The same operation tied to a history operation. */
  public LinearizableOperation<I, O> withSource(Operation source) {
    return new LinearizableOperation<>(
        id, key, invokeNanos, completeNanos, input, output, outputKnown, source);
  }
}
