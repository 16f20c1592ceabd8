package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.checker.linearizability.CasRegisterModel;
import io.keyrotor.chaos.checker.linearizability.LinearizableOperation;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Workload W2's history conventions: the primary version of a key as a compare-and-set register
 * with a revision.
 *
 * <ul>
 *   <li>{@code activate}: input {@code {"version": v, "expected": e}}; {@code ok} (with the new
 *       {@code rev}) if v became primary; {@code fail} with an error containing {@code CONFLICT} or
 *       {@code FAILED_PRECONDITION} if the primary was not e (a completed compare-and-set that
 *       failed); any other {@code fail} was not applied.
 *   <li>{@code get-primary}: {@code ok} output {@code {"version": v}} with the key's {@code rev}.
 *   <li>{@code encrypt}: {@code ok} output {@code {"version": v, ...}}: the version encrypt used,
 *       which must have been primary within its interval (a read without a revision).
 * </ul>
 */
public final class PrimaryRegisterWorkload {
  public static final String ACTIVATE = "activate";
  public static final String GET_PRIMARY = "get-primary";
  public static final String ENCRYPT = "encrypt";

  /** Error names meaning "the compare-and-set was evaluated and did not match". */
  public static final Set<String> CONFLICT_ERRORS = Set.of("CONFLICT", "FAILED_PRECONDITION");

  private PrimaryRegisterWorkload() {}

  /** Whether a failed activate is a completed compare-and-set that did not match. */
  public static boolean isConflict(Operation operation) {
    String error = operation.errorOrNull();
    return operation.isFail()
        && error != null
        && CONFLICT_ERRORS.stream().anyMatch(error::contains);
  }

  /**
   * The history's W2 operations as compare-and-set register operations (failed non-conflict
   * activates, failed reads and operations without a key are left out; reads with unknown output
   * are kept as indeterminate, and the checker drops them).
   */
  public static List<LinearizableOperation<CasRegisterModel.Input, Object>> operations(
      History history, boolean includeEncrypts) {
    List<LinearizableOperation<CasRegisterModel.Input, Object>> result = new ArrayList<>();
    for (Operation op : history.operations()) {
      if (op.keyOrNull() == null) {
        continue;
      }
      LinearizableOperation<CasRegisterModel.Input, Object> converted = null;
      switch (op.f()) {
        case ACTIVATE -> {
          Long version = JsonValues.longOrNull(op.inputOrNull(), "version");
          Long expected = JsonValues.longOrNull(op.inputOrNull(), "expected");
          if (version == null || expected == null) {
            throw new IllegalArgumentException("activate without version and expected: " + op);
          }
          CasRegisterModel.Input input = new CasRegisterModel.CompareAndSet(expected, version);
          if (op.isOk()) {
            converted = completed(op, input, true);
          } else if (isConflict(op)) {
            converted = completed(op, input, false);
          } else if (op.isIndeterminate()) {
            converted = indeterminate(op, input);
          }
        }
        case GET_PRIMARY -> converted = read(op);
        case ENCRYPT -> converted = includeEncrypts ? read(op) : null;
        default -> converted = null;
      }
      if (converted != null) {
        result.add(converted);
      }
    }
    return result;
  }

  private static LinearizableOperation<CasRegisterModel.Input, Object> read(Operation op) {
    if (op.isOk()) {
      Long version = JsonValues.longOrNull(op.outputOrNull(), "version");
      if (version == null) {
        throw new IllegalArgumentException(op.f() + " ok without a version: " + op);
      }
      return completed(op, new CasRegisterModel.Read(), version);
    }
    return op.isIndeterminate() ? indeterminate(op, new CasRegisterModel.Read()) : null;
  }

  private static LinearizableOperation<CasRegisterModel.Input, Object> completed(
      Operation op, CasRegisterModel.Input input, Object output) {
    return LinearizableOperation.<CasRegisterModel.Input, Object>completed(
            op.id(), op.keyOrNull(), op.invokeNanos(), op.completeNanos(), input, output)
        .withSource(op);
  }

  private static LinearizableOperation<CasRegisterModel.Input, Object> indeterminate(
      Operation op, CasRegisterModel.Input input) {
    return LinearizableOperation.<CasRegisterModel.Input, Object>indeterminate(
            op.id(), op.keyOrNull(), op.invokeNanos(), input)
        .withSource(op);
  }
}
