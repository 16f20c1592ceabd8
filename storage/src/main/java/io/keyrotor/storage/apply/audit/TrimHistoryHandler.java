package io.keyrotor.storage.apply.audit;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.TrimHistory;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;

/**
 * TrimHistory: checks the command's shape. What it removes is found and staged by the store with
 * the rest of the entry's writes ({@link io.keyrotor.storage.audit.HistoryTrim}), from the state at
 * this index and the cut the command carries, so every replica removes the same records.
 */
public final class TrimHistoryHandler implements CommandHandler<TrimHistory> {
  @Override
  public Effects apply(TrimHistory trim, CommandContext context) {
    if (trim.getCutTimeUnixMillis() < 0) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT,
          Code.INVALID_ARGUMENT,
          "a trim's cut time is not negative",
          "");
    }
    if (trim.getCutTimeUnixMillis() == 0
        && trim.getKeepIndexes() == 0
        && trim.getKeepBulkRotations() == 0) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT,
          Code.INVALID_ARGUMENT,
          "a trim names a cut time, a number of indexes or of bulk rotations to keep",
          "");
    }
    return context.ok("", 0, 0, "history trimmed").build();
  }
}
