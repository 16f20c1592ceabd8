package io.keyrotor.chaos.history;

import com.google.gson.JsonElement;
import java.util.Objects;

/**
 * An invocation paired with its completion.
 *
 * <p>An indeterminate operation ({@code info}, or no completion before the history ended) has
 * {@link #completeNanos()} {@code = Long.MAX_VALUE}: it may have taken effect at any point after
 * its invocation, or never, and its output is unknown.
 *
 * @param id position in {@link History#operations()} (ordered by invocation)
 * @param process the client process
 * @param nodeOrNull the node the request was sent to
 * @param f the operation name
 * @param keyOrNull the key
 * @param inputOrNull the invocation's value
 * @param outcome ok, fail, info or pending (no completion)
 * @param outputOrNull the completion's value (for ok, sometimes for fail)
 * @param revOrNull the revision the server returned
 * @param errorOrNull the error of a fail or info
 * @param invokeNanos the invocation's time
 * @param completeNanos the completion's time, {@code Long.MAX_VALUE} if indeterminate
 * @param invokeIndex the invocation's event index
 * @param completeIndex the completion's event index, -1 if there is none
 */
public record Operation(
    int id,
    ProcessId process,
    String nodeOrNull,
    String f,
    String keyOrNull,
    JsonElement inputOrNull,
    Outcome outcome,
    JsonElement outputOrNull,
    Long revOrNull,
    String errorOrNull,
    long invokeNanos,
    long completeNanos,
    long invokeIndex,
    long completeIndex) {

  /** How an operation ended. */
  public enum Outcome {
    OK,
    FAIL,
    INFO,
    /** No completion was recorded before the history ended; treated like {@link #INFO}. */
    PENDING
  }

  /** The completion time of an indeterminate operation. */
  public static final long NEVER = Long.MAX_VALUE;

  public Operation {
    Objects.requireNonNull(process, "process");
    Objects.requireNonNull(f, "f");
    Objects.requireNonNull(outcome, "outcome");
    if ((outcome == Outcome.INFO || outcome == Outcome.PENDING) != (completeNanos == NEVER)) {
      throw new IllegalArgumentException("indeterminate operations and only they complete never");
    }
    if (completeNanos < invokeNanos) {
      throw new IllegalArgumentException("completes before it was invoked: " + id);
    }
    inputOrNull = inputOrNull == null || inputOrNull.isJsonNull() ? null : inputOrNull.deepCopy();
    outputOrNull =
        outputOrNull == null || outputOrNull.isJsonNull() ? null : outputOrNull.deepCopy();
  }

  @Override
  public JsonElement inputOrNull() {
    return inputOrNull == null ? null : inputOrNull.deepCopy();
  }

  @Override
  public JsonElement outputOrNull() {
    return outputOrNull == null ? null : outputOrNull.deepCopy();
  }

  public boolean isOk() {
    return outcome == Outcome.OK;
  }

  public boolean isFail() {
    return outcome == Outcome.FAIL;
  }

  /** Info or pending: it may have taken effect at any point after its invocation, or never. */
  public boolean isIndeterminate() {
    return outcome == Outcome.INFO || outcome == Outcome.PENDING;
  }

  /** Whether this operation completed before {@code other} was invoked (real-time order). */
  public boolean precedes(Operation other) {
    return completeNanos < other.invokeNanos;
  }

  /** Whether the two operations' intervals overlap. */
  public boolean overlaps(Operation other) {
    return !precedes(other) && !other.precedes(this);
  }

  /** One line for counterexamples: process, node, f, key, input, outcome, output, rev, times. */
  public String describe() {
    StringBuilder line = new StringBuilder();
    line.append("#").append(id).append(" p").append(process);
    if (nodeOrNull != null) {
      line.append(' ').append(nodeOrNull);
    }
    line.append(' ').append(f);
    if (keyOrNull != null) {
      line.append(' ').append(keyOrNull);
    }
    if (inputOrNull != null) {
      line.append(' ').append(inputOrNull);
    }
    line.append(" -> ").append(outcome.name().toLowerCase(java.util.Locale.ROOT));
    if (outputOrNull != null) {
      line.append(' ').append(outputOrNull);
    }
    if (revOrNull != null) {
      line.append(" rev=").append(revOrNull);
    }
    if (errorOrNull != null) {
      line.append(" error=").append(errorOrNull);
    }
    line.append(" t=[").append(seconds(invokeNanos)).append(", ");
    line.append(completeNanos == NEVER ? "inf" : seconds(completeNanos)).append(']');
    return line.toString();
  }

  static String seconds(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.6fs", nanos / 1e9);
  }

  @Override
  public String toString() {
    return describe();
  }
}
