package io.keyrotor.storage.schema;

import io.keyrotor.storage.AppliedPosition;
import io.keyrotor.storage.StateDigest;
import io.keyrotor.storage.codec.StoreKeys;
import java.nio.file.Path;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;

/**
 * The values of the META family, written in every command's batch: the applied position, the
 * effective time of the last command, the audit chain head and the digest accumulator.
 *
 * @param position the applied position ({@link AppliedPosition#INITIAL} in a new store)
 * @param lastCommandTimeMillis the effective time of the last applied command (0 in a new store)
 * @param auditHeadOrNull the audit chain head, or null before the first command
 * @param digest the stored digest accumulator (empty in a new store)
 */
public record StoredMeta(
    AppliedPosition position,
    long lastCommandTimeMillis,
    // The fresh array RocksDB returned, read once at open and handed to AuditChain: never
    // compared, hashed, printed or shared.
    @SuppressWarnings("ArrayRecordComponent") byte[] auditHeadOrNull,
    StateDigest digest) {

  /** Reads the META values of {@code database}. */
  public static StoredMeta read(StateDatabase database) throws RocksDBException {
    try (ReadOptions options = new ReadOptions()) {
      return read(database, options);
    }
  }

  /** Reads the META values of {@code database} with {@code options} (a snapshot's, say). */
  public static StoredMeta read(StateDatabase database, ReadOptions options)
      throws RocksDBException {
    byte[] position = database.get(Schema.META, options, Schema.MetaKey.APPLIED_POSITION);
    byte[] time = database.get(Schema.META, options, Schema.MetaKey.LAST_COMMAND_TIME);
    return new StoredMeta(
        position == null
            ? AppliedPosition.INITIAL
            : new AppliedPosition(StoreKeys.readLong(position), StoreKeys.readSecondLong(position)),
        time == null ? 0 : StoreKeys.readLong(time),
        database.get(Schema.META, options, Schema.MetaKey.AUDIT_HEAD),
        StateDigest.fromBytes(database.get(Schema.META, options, Schema.MetaKey.DIGEST_SUM)));
  }

  /**
   * What to tell an operator when the data, as read, does not sum to this digest: the data changed
   * behind the store (a bad disk, a bad hand), so no replica should serve from it.
   */
  public String mismatchMessage(Path directory) {
    return "state store in "
        + directory
        + " is corrupt: its data does not match its stored digest at applied index "
        + position.index()
        + "; refusing to serve from it (remove the node's data directory to rebuild it"
        + " from its peers)";
  }

  /**
   * How far the batch entry being applied got: {@code index} and the number of its commands
   * written, or (-1, 0) when none was interrupted.
   */
  public record BatchProgress(long index, int commandsApplied) {
    /** No batch entry half applied. */
    public static final BatchProgress NONE = new BatchProgress(-1, 0);
  }

  /** Reads the progress of the last batch entry written command by command. */
  public static BatchProgress readBatchProgress(StateDatabase database) throws RocksDBException {
    try (ReadOptions options = new ReadOptions()) {
      byte[] value = database.get(Schema.META, options, Schema.MetaKey.BATCH_PROGRESS);
      return value == null
          ? BatchProgress.NONE
          : new BatchProgress(StoreKeys.readLong(value), (int) StoreKeys.readSecondLong(value));
    }
  }

  /** Puts the progress of a batch entry into {@code batch}. */
  public static void putBatchProgress(StateBatch batch, BatchProgress progress)
      throws RocksDBException {
    batch.put(
        Schema.META,
        Schema.MetaKey.BATCH_PROGRESS,
        StoreKeys.twoLongs(progress.index(), progress.commandsApplied()));
  }

  /** Puts the META values into {@code batch}; the digest is the batch's own. */
  public static void put(
      StateBatch batch, AppliedPosition position, long lastCommandTimeMillis, byte[] auditHead)
      throws RocksDBException {
    batch.put(
        Schema.META,
        Schema.MetaKey.APPLIED_POSITION,
        StoreKeys.twoLongs(position.term(), position.index()));
    batch.put(
        Schema.META, Schema.MetaKey.LAST_COMMAND_TIME, StoreKeys.longBytes(lastCommandTimeMillis));
    batch.put(Schema.META, Schema.MetaKey.AUDIT_HEAD, auditHead);
    batch.put(Schema.META, Schema.MetaKey.DIGEST_SUM, batch.digest().toBytes());
  }
}
