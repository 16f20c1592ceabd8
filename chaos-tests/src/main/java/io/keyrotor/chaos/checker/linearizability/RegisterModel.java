package io.keyrotor.chaos.checker.linearizability;

import java.util.Objects;
import java.util.Optional;

/**
 * A read/write register. The state is the current value ({@link Unset#UNSET} before any write,
 * unless an initial value is given). A read's output is the value it returned (null or {@link
 * Unset#UNSET} for nothing); a write's output is ignored.
 */
public final class RegisterModel implements Model<Object, RegisterModel.Input, Object> {

  /** A register operation. */
  public sealed interface Input permits Read, Write {}

  /** Returns the current value. */
  public record Read() implements Input {
    @Override
    public String toString() {
      return "read";
    }
  }

  /** Sets the value. */
  public record Write(Object value) implements Input {
    public Write {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
      return "write " + value;
    }
  }

  private final Object initialValue;

  /** A register holding {@code initialValueOrNull} at first (null: unset). */
  public RegisterModel(Object initialValueOrNull) {
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
    return !outputKnown || state.equals(Unset.orUnset(output)) ? state : null;
  }

  @Override
  public boolean isReadOnly(Input input) {
    return input instanceof Read;
  }

  @Override
  public Optional<Object> writtenValue(Input input, Object output, boolean outputKnown) {
    return input instanceof Write write ? Optional.of(write.value()) : Optional.empty();
  }

  @Override
  public Optional<Object> observedValue(Input input, Object output) {
    return input instanceof Read ? Optional.of(Unset.orUnset(output)) : Optional.empty();
  }

  @Override
  public String describe(Input input, Object output, boolean outputKnown) {
    if (input instanceof Read) {
      return outputKnown ? "read -> " + Unset.orUnset(output) : "read -> ?";
    }
    return input.toString();
  }
}
