package io.keyrotor.storage;

import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateDatabase;
import io.keyrotor.storage.schema.StoredMeta;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * Every entry of a state store as it was at one applied position, read page by page from a RocksDB
 * snapshot: apply goes on meanwhile and nothing it writes is seen, so the entries, the applied
 * position, the audit head and the digest all belong to the same index. For backups; the reader
 * never holds more than one page.
 *
 * <p>Each page is read under the database's read lock; if the store is closed meanwhile (a snapshot
 * from the leader replaced it, or the node stops) the next page fails with a {@link
 * StorageException} and the caller starts over.
 */
public final class StateExport implements AutoCloseable {
  private static final byte[] NO_AUDIT_HEAD = new byte[32];

  /** One entry of a column family. */
  public record Entry(
      Schema family,
      @SuppressWarnings("ArrayRecordComponent") byte[] key,
      @SuppressWarnings("ArrayRecordComponent") byte[] value) {}

  private final StateDatabase database;
  private final Snapshot snapshot;
  private final ReadOptions options;
  private final StoredMeta meta;
  private final long estimatedEntries;
  private int familyIndex;
  private byte[] lastKey;
  private boolean closed;

  private StateExport(
      StateDatabase database,
      Snapshot snapshot,
      ReadOptions options,
      StoredMeta meta,
      long estimatedEntries) {
    this.database = database;
    this.snapshot = snapshot;
    this.options = options;
    this.meta = meta;
    this.estimatedEntries = estimatedEntries;
  }

  static StateExport open(StateDatabase database) {
    return database.read(
        "the state store, to export it",
        db -> {
          Snapshot snapshot = db.rocksDb().getSnapshot();
          ReadOptions options = new ReadOptions().setSnapshot(snapshot);
          StoredMeta meta = StoredMeta.read(db, options);
          long estimate = 0;
          for (Schema family : Schema.all()) {
            estimate +=
                db.rocksDb().getLongProperty(db.family(family), "rocksdb.estimate-num-keys");
          }
          return new StateExport(db, snapshot, options, meta, estimate);
        });
  }

  /** The applied position every entry reflects. */
  public AppliedPosition position() {
    return meta.position();
  }

  /** The audit chain head at that position (32 bytes). */
  public byte[] auditHead() {
    byte[] head = meta.auditHeadOrNull();
    return head == null ? NO_AUDIT_HEAD.clone() : head.clone();
  }

  /** The state digest at that position, as nodes report it. */
  public String digest() {
    return meta.digest().report(auditHead());
  }

  /** RocksDB's estimate of how many entries there are, for progress; not exact. */
  public long estimatedEntries() {
    return estimatedEntries;
  }

  /** The families whose entries the state digest sums, by name. */
  public static List<String> digestedFamilies() {
    return Schema.all().stream().filter(Schema::inDigest).map(Schema::columnFamilyName).toList();
  }

  /**
   * The next entries, at most {@code max}, family by family in declaration order, keys in order;
   * empty once every entry was read.
   */
  public List<Entry> next(int max) {
    List<Entry> page = new ArrayList<>(Math.min(max, 1024));
    return database.read(
        "the state store, to export it",
        db -> {
          while (page.size() < max && familyIndex < Schema.all().size()) {
            Schema family = Schema.all().get(familyIndex);
            try (RocksIterator it = db.newIterator(family, options)) {
              if (lastKey == null) {
                it.seekToFirst();
              } else {
                it.seek(lastKey);
                if (it.isValid() && java.util.Arrays.equals(it.key(), lastKey)) {
                  it.next();
                }
              }
              while (page.size() < max && it.isValid()) {
                byte[] key = it.key();
                page.add(new Entry(family, key, it.value()));
                lastKey = key;
                it.next();
              }
              it.status();
              if (page.size() < max) {
                familyIndex++;
                lastKey = null;
              }
            }
          }
          return page;
        });
  }

  /** Releases the snapshot. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      database.read(
          "the state store, to release an export's snapshot",
          db -> {
            db.rocksDb().releaseSnapshot(snapshot);
            return null;
          });
    } catch (StorageException e) {
      // The database was closed: its snapshots went with it.
    }
    options.close();
  }
}
