package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.checker.linearizability.LinearizableOperation;
import io.keyrotor.chaos.checker.linearizability.RegisterModel;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain read/write register per key: {@code write} with input value v (any JSON, unique per key),
 * {@code read} with {@code ok} output v (absent: unset). Failed operations were not applied and are
 * left out.
 */
public final class RegisterWorkload {
  public static final String WRITE = "write";
  public static final String READ = "read";

  private RegisterWorkload() {}

  /** The history's register operations. */
  public static List<LinearizableOperation<RegisterModel.Input, Object>> operations(
      History history) {
    List<LinearizableOperation<RegisterModel.Input, Object>> result = new ArrayList<>();
    for (Operation op : history.operations()) {
      if (op.keyOrNull() == null || op.isFail()) {
        continue;
      }
      RegisterModel.Input input;
      if (op.f().equals(WRITE)) {
        if (op.inputOrNull() == null) {
          throw new IllegalArgumentException("write without a value: " + op);
        }
        input = new RegisterModel.Write(op.inputOrNull());
      } else if (op.f().equals(READ)) {
        input = new RegisterModel.Read();
      } else {
        continue;
      }
      LinearizableOperation<RegisterModel.Input, Object> converted =
          op.isOk()
              ? LinearizableOperation.<RegisterModel.Input, Object>completed(
                  op.id(),
                  op.keyOrNull(),
                  op.invokeNanos(),
                  op.completeNanos(),
                  input,
                  op.outputOrNull())
              : LinearizableOperation.<RegisterModel.Input, Object>indeterminate(
                  op.id(), op.keyOrNull(), op.invokeNanos(), input);
      result.add(converted.withSource(op));
    }
    return result;
  }
}
