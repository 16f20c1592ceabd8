package io.keyrotor.chaos.checker.linearizability;

import java.util.Objects;
import java.util.Optional;

/**
 * A compare-and-set register: the model of a key's primary version in workload W2, where {@code
 * activate(K, v, expected)} makes v primary only if the primary is still {@code expected}, and
 * {@code getPrimary(K)} reads it.
 *
 * <p>Outputs: a read returns the value; a compare-and-set returns {@code Boolean.TRUE} (applied) or
 * {@code Boolean.FALSE} (conflict: the state was not {@code expected}); a write's output is
 * ignored. A compare-and-set with unknown output succeeds iff the state equals {@code expected}.
 */
public final class CasRegisterModel implements Model<Object, CasRegisterModel.Input, Object> {

  /** A compare-and-set register operation. */
  public sealed interface Input permits Read, Write, CompareAndSet {}

  /** Returns the current value. */
  public record Read() implements Input {
    @Override
    public String toString() {
      return "read";
    }
  }

  /** Sets the value unconditionally. */
  public record Write(Object value) implements Input {
    public Write {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
      return "write " + value;
    }
  }

  /** Sets the value to {@code value} if it is {@code expected}. */
  public record CompareAndSet(Object expected, Object value) implements Input {
    public CompareAndSet {
      Objects.requireNonNull(expected, "expected");
      Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
      return "cas " + expected + "->" + value;
    }
  }

  private final Object initialValue;

  /** A register holding {@code initialValueOrNull} at first (null: unset). */
  public CasRegisterModel(Object initialValueOrNull) {
    this.initialValue = Unset.orUnset(initialValueOrNull);
  }

  @Override
  public Object init() {
    return initialValue;
  }

  @Override
  public Object stepOrNull(Object state, Input input, Object output, boolean outputKnown) {
    if (input instanceof Write write) {
      return write.value();
    }
    if (input instanceof CompareAndSet cas) {
      boolean matches = state.equals(cas.expected());
      if (!outputKnown) {
        return matches ? cas.value() : state;
      }
      if (Boolean.TRUE.equals(output)) {
        return matches ? cas.value() : null;
      }
      return matches ? null : state;
    }
    return !outputKnown || state.equals(Unset.orUnset(output)) ? state : null;
  }

  @Override
  public boolean isReadOnly(Input input) {
    return input instanceof Read;
  }

  @Override
  public boolean mayChangeState(Input input, Object output, boolean outputKnown) {
    if (input instanceof Read) {
      return false;
    }
    return !(input instanceof CompareAndSet && outputKnown && !Boolean.TRUE.equals(output));
  }

  @Override
  public Optional<Object> writtenValue(Input input, Object output, boolean outputKnown) {
    if (input instanceof Write write) {
      return Optional.of(write.value());
    }
    if (input instanceof CompareAndSet cas && (!outputKnown || Boolean.TRUE.equals(output))) {
      return Optional.of(cas.value());
    }
    return Optional.empty();
  }

  @Override
  public Optional<Object> observedValue(Input input, Object output) {
    if (input instanceof Read) {
      return Optional.of(Unset.orUnset(output));
    }
    if (input instanceof CompareAndSet cas && Boolean.TRUE.equals(output)) {
      return Optional.of(cas.expected());
    }
    return Optional.empty();
  }

  @Override
  public Optional<Object> expectedValue(Input input) {
    return input instanceof CompareAndSet cas ? Optional.of(cas.expected()) : Optional.empty();
  }

  @Override
  public boolean observesInequality(Input input, Object output) {
    return input instanceof CompareAndSet && !Boolean.TRUE.equals(output);
  }

  @Override
  public String describe(Input input, Object output, boolean outputKnown) {
    if (!outputKnown) {
      return input + " -> ?";
    }
    if (input instanceof Read) {
      return "read -> " + Unset.orUnset(output);
    }
    if (input instanceof CompareAndSet) {
      return input + (Boolean.TRUE.equals(output) ? " -> ok" : " -> conflict");
    }
    return input.toString();
  }
}
