package io.keyrotor.storage;

import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateDatabase;
import io.keyrotor.storage.schema.StoredMeta;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * The check, after a store opened, that its data still sums to its stored digest: what start-up
 * used to do before serving, moved off the start path so opening a store does not read every key.
 * It reads a consistent RocksDB snapshot (data and stored digest of one applied position) while
 * commands go on applying, on a thread of its own, and stops early when the store closes.
 */
final class IntegrityCheck implements Runnable {
  private final StateDatabase database;
  private final CountDownLatch done = new CountDownLatch(1);
  private volatile IntegrityStatus status = IntegrityStatus.CHECKING;

  IntegrityCheck(StateDatabase database) {
    this.database = database;
  }

  /** Starts the check on a daemon thread. */
  void start() {
    Thread thread = new Thread(this, "state-integrity-check");
    thread.setDaemon(true);
    thread.start();
  }

  IntegrityStatus status() {
    return status;
  }

  /** Waits up to {@code timeoutMillis} for the check to end; its status then. */
  IntegrityStatus await(long timeoutMillis) throws InterruptedException {
    done.await(timeoutMillis, TimeUnit.MILLISECONDS);
    return status;
  }

  @Override
  public void run() {
    try {
      status = database.read("the state for its digest check", db -> check());
    } catch (StorageException e) {
      if (!database.isClosing()) {
        status =
            new IntegrityStatus(
                IntegrityStatus.State.FAILED,
                "the state store in "
                    + database.directory()
                    + " cannot be read: "
                    + e.getMessage());
      }
    } finally {
      done.countDown();
    }
  }

  private IntegrityStatus check() throws org.rocksdb.RocksDBException {
    RocksDB db = database.rocksDb();
    Snapshot snapshot = db.getSnapshot();
    try (ReadOptions options = new ReadOptions().setSnapshot(snapshot).setFillCache(false)) {
      StoredMeta meta = StoredMeta.read(database, options);
      StateDigest recomputed = StateDigest.empty();
      for (Schema family : Schema.all()) {
        if (!family.inDigest()) {
          continue;
        }
        try (RocksIterator it = database.newIterator(family, options)) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            if (database.isClosing()) {
              return IntegrityStatus.CHECKING; // closed before the end: nothing to report
            }
            recomputed.add(family, it.key(), it.value());
          }
          it.status();
        }
      }
      if (!recomputed.equals(meta.digest())) {
        return new IntegrityStatus(
            IntegrityStatus.State.FAILED, meta.mismatchMessage(database.directory()));
      }
      return new IntegrityStatus(IntegrityStatus.State.VERIFIED, "");
    } finally {
      db.releaseSnapshot(snapshot);
    }
  }
}
