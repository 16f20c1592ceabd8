package io.keyrotor.storage;

import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Writes a new state store from exported entries ({@link StateExport}): the way a backup becomes
 * the first state of a new cluster. The entries go in as they were (the digest accumulator and
 * audit head in META included), so the new store holds the same state, digest and audit chain at
 * the same applied index; only the applied position's term is set by the caller, because the new
 * cluster's Raft log starts again (at a low term the caller chooses). {@link #finish} opens the
 * result as a store and waits for its integrity check, so a store whose data does not match its
 * digest is never handed on.
 */
public final class StateImport implements AutoCloseable {
  private static final int BATCH_ENTRIES = 1000;

  private final StateDatabase database;
  private final Map<String, Schema> families = new HashMap<>();
  private WriteBatch batch = new WriteBatch();
  private int inBatch;
  private long entries;
  private boolean closed;

  private StateImport(StateDatabase database) {
    this.database = database;
    for (Schema family : Schema.all()) {
      families.put(family.columnFamilyName(), family);
    }
  }

  /** Starts a new store in {@code directory}, which must be missing or empty. */
  public static StateImport create(Path directory) {
    try {
      if (Files.exists(directory)) {
        try (var entries = Files.list(directory)) {
          if (entries.findAny().isPresent()) {
            throw new StorageException(
                "cannot restore into " + directory + ": it is not empty (a node's data is there)");
          }
        }
      }
    } catch (java.io.IOException e) {
      throw new StorageException("cannot read " + directory + ": " + e, e);
    }
    return new StateImport(StateDatabase.open(directory));
  }

  /** Adds one entry of the column family named {@code family}. */
  public void put(String family, byte[] key, byte[] value) {
    Schema known = families.get(family);
    if (known == null) {
      throw new StorageException(
          "the backup holds column family '" + family + "', which this build does not know");
    }
    try {
      batch.put(database.family(known), key, value);
      entries++;
      if (++inBatch >= BATCH_ENTRIES) {
        flushBatch();
      }
    } catch (RocksDBException e) {
      throw new StorageException("cannot write the restored store: " + e.getMessage(), e);
    }
  }

  /** How many entries were added. */
  public long entries() {
    return entries;
  }

  /**
   * Writes the last entries, sets the applied position's term to {@code term} (the index stays the
   * backup's), closes the database, and checks the result by opening it as a store: its digest must
   * match its data and its audit chain must verify.
   *
   * @return the applied position of the restored store
   */
  public AppliedPosition finish(long term, long timeoutMillis) throws InterruptedException {
    try {
      flushBatch();
      byte[] position = database.get(Schema.META, Schema.MetaKey.APPLIED_POSITION);
      if (position == null) {
        throw new StorageException("the backup holds no applied position: it is not a state");
      }
      long index = StoreKeys.readSecondLong(position);
      database
          .rocksDb()
          .put(
              database.family(Schema.META),
              Schema.MetaKey.APPLIED_POSITION,
              StoreKeys.twoLongs(term, index));
      database.flush();
    } catch (RocksDBException e) {
      throw new StorageException("cannot write the restored store: " + e.getMessage(), e);
    }
    Path directory = database.directory();
    close();
    try (KeyStateStore store = KeyStateStore.open(directory)) {
      IntegrityStatus integrity = store.awaitIntegrityCheck(timeoutMillis);
      if (integrity.failed()) {
        throw new StorageException("the restored store failed its check: " + integrity.detail());
      }
      if (integrity.state() == IntegrityStatus.State.CHECKING) {
        throw new StorageException(
            "the restored store's check did not finish within " + timeoutMillis + " ms");
      }
      return store.appliedPosition();
    }
  }

  private void flushBatch() throws RocksDBException {
    if (inBatch > 0) {
      database.write(batch);
      batch.close();
      batch = new WriteBatch();
      inBatch = 0;
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    batch.close();
    database.close();
  }
}
