package io.keyrotor.storage.schema;

import io.keyrotor.storage.StateDigest;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The one RocksDB write batch of a command, and the state digest as it will be once the batch is
 * written: every put and delete of a digested family moves the digest by exactly that entry, so the
 * digest stored with the batch always matches the data.
 */
public final class StateBatch implements AutoCloseable {
  private final StateDatabase database;
  private final StateDigest digest;
  private final WriteBatch batch = new WriteBatch();

  /**
   * @param digest the digest to move (a copy of the current one: it is changed in place)
   */
  public StateBatch(StateDatabase database, StateDigest digest) {
    this.database = database;
    this.digest = digest;
  }

  /** Puts an entry that did not exist, or one of a family left out of the digest. */
  public void put(Schema family, byte[] key, byte[] value) throws RocksDBException {
    put(family, key, value, null);
  }

  /**
   * Puts an entry; for a digested family, the digest loses {@code previousValueOrNull} (the value
   * stored now, which the caller knows) and gains {@code value}.
   */
  public void put(Schema family, byte[] key, byte[] value, byte[] previousValueOrNull)
      throws RocksDBException {
    if (family.inDigest()) {
      if (previousValueOrNull != null) {
        digest.remove(family, key, previousValueOrNull);
      }
      digest.add(family, key, value);
    }
    batch.put(database.family(family), key, value);
  }

  /** Deletes an entry; for a digested family, the digest loses {@code storedValue}. */
  public void delete(Schema family, byte[] key, byte[] storedValue) throws RocksDBException {
    if (family.inDigest()) {
      digest.remove(family, key, storedValue);
    }
    batch.delete(database.family(family), key);
  }

  /**
   * Deletes the keys from {@code fromKey} (inclusive) to {@code toKey} (exclusive) of a family left
   * out of the digest (a range cannot tell the digest what it removed).
   */
  public void deleteRange(Schema family, byte[] fromKey, byte[] toKey) throws RocksDBException {
    if (family.inDigest()) {
      throw new IllegalArgumentException(family + " is digested: delete its entries one by one");
    }
    batch.deleteRange(database.family(family), fromKey, toKey);
  }

  /** The digest once this batch is written. */
  public StateDigest digest() {
    return digest;
  }

  /** Writes the batch atomically. */
  public void commit() throws RocksDBException {
    database.write(batch);
  }

  @Override
  public void close() {
    batch.close();
  }
}
