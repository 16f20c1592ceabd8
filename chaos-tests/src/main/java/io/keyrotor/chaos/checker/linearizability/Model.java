package io.keyrotor.chaos.checker.linearizability;

import java.util.Optional;

/**
 * A sequential specification: an initial state and a step function. States must be immutable and
 * implement {@code equals}/{@code hashCode} (they are memoized).
 *
 * <p>The optional methods describe values for the register-like pre-processing the checker does
 * (see {@link LinearizabilityChecker}); their defaults turn that pre-processing off, which is
 * always sound.
 *
 * @param <S> the state
 * @param <I> an operation's input
 * @param <O> an operation's output
 */
public interface Model<S, I, O> {
  /** The state before any operation. */
  S init();

  /**
   * The state after {@code input} ran in {@code state} and answered {@code output}, or null if it
   * could not have answered that. For an indeterminate operation {@code outputKnown} is false and
   * the step applies the operation's effect whatever it would have answered.
   */
  S stepOrNull(S state, I input, O output, boolean outputKnown);

  /** Whether the input never changes the state; indeterminate read-only operations are dropped. */
  default boolean isReadOnly(I input) {
    return false;
  }

  /**
   * Whether this operation, with this output, may change the state (false for reads and for a
   * compare-and-set known to have failed). Used to decide which operations a counterexample may
   * leave out.
   */
  default boolean mayChangeState(I input, O output, boolean outputKnown) {
    return !isReadOnly(input);
  }

  /**
   * The value this operation writes if it takes effect (values unique per key enable tightening).
   */
  default Optional<Object> writtenValue(I input, O output, boolean outputKnown) {
    return Optional.empty();
  }

  /** The value a completed operation proves was the state (a read's result, a CAS's expected). */
  default Optional<Object> observedValue(I input, O output) {
    return Optional.empty();
  }

  /**
   * The value the operation's effect depends on, whatever its output (a compare-and-set's {@code
   * expected}). An indeterminate write whose value some operation expects is not dropped.
   */
  default Optional<Object> expectedValue(I input) {
    return Optional.empty();
  }

  /**
   * Whether a completed operation proves only that the state was <em>not</em> some value (a failed
   * compare-and-set). Such observers make it unsound to drop unobserved indeterminate writes.
   */
  default boolean observesInequality(I input, O output) {
    return false;
  }

  /** A short rendering of an operation for reports. */
  default String describe(I input, O output, boolean outputKnown) {
    return input + (outputKnown ? " -> " + output : " -> ?");
  }
}
