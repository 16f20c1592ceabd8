package io.keyrotor.storage.groupcommit;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import io.keyrotor.storage.schema.StoredMeta;
import java.util.List;
import org.rocksdb.RocksDBException;

/**
 * Where the batch entry being applied stands, and the order its commands are applied in. Each
 * command is applied as if it were its own entry at the batch entry's index, in its own RocksDB
 * write batch that also holds the entry's progress ({@link StoredMeta.BatchProgress}); the last
 * command's batch clears the progress and moves the applied position. A replay of an entry that a
 * crash interrupted answers the commands already written from their request records and applies the
 * rest. Apply thread only.
 */
public final class BatchEntryStaging {
  /** Applies one command of a batch entry, as the store applies a single entry. */
  @FunctionalInterface
  public interface CommandApplier {
    /**
     * Applies {@code command}, at {@code batchPosition} in its entry, writing {@code
     * progressOrNull} with it (null for the entry's last command, whose batch moves the applied
     * position).
     */
    CommandResult apply(
        Command command, int batchPosition, StoredMeta.BatchProgress progressOrNull);
  }

  /** The remembered result of a command already written. */
  @FunctionalInterface
  public interface ReplayedResult {
    CommandResult of(Command command);
  }

  private StoredMeta.BatchProgress progress = StoredMeta.BatchProgress.NONE;

  /** Reads the progress the store holds (after a restart amid a batch entry). */
  public void load(StateDatabase database) throws RocksDBException {
    progress = StoredMeta.readBatchProgress(database);
  }

  /**
   * Applies the commands of the batch entry at {@code index} in order, each seeing the ones before,
   * and returns their results in order in {@code batch_results}. {@code replay}: the whole entry is
   * at or below the applied position, so every command is answered from {@code replayed}.
   */
  public CommandResult apply(
      List<Command> commands,
      long index,
      boolean replay,
      CommandApplier applier,
      ReplayedResult replayed) {
    CommandResult.Builder results = CommandResult.newBuilder();
    int written = replay ? commands.size() : 0;
    if (!replay && progress.index() == index) {
      written = progress.commandsApplied();
    }
    for (int i = 0; i < commands.size(); i++) {
      Command command = commands.get(i);
      if (i < written) {
        results.addBatchResults(replayed.of(command));
        continue;
      }
      boolean last = i == commands.size() - 1;
      results.addBatchResults(
          applier.apply(command, i, last ? null : new StoredMeta.BatchProgress(index, i + 1)));
    }
    return results.build();
  }

  /** Puts {@code progressOrNull} into the command's write batch, when more commands follow. */
  public static void stage(StateBatch batch, StoredMeta.BatchProgress progressOrNull)
      throws RocksDBException {
    if (progressOrNull != null) {
      StoredMeta.putBatchProgress(batch, progressOrNull);
    }
  }

  /** Records that the command's batch holding {@code progressOrNull} was written. */
  public void committed(StoredMeta.BatchProgress progressOrNull) {
    progress = progressOrNull == null ? StoredMeta.BatchProgress.NONE : progressOrNull;
  }
}
