package io.keyrotor.storage.schema;

import com.google.protobuf.InvalidProtocolBufferException;
import io.keyrotor.storage.OwnerOnly;
import io.keyrotor.storage.StorageException;
import io.keyrotor.storage.codec.StoreKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The RocksDB database of one state store, with every {@link Schema} column family open.
 *
 * <p>The apply thread uses it directly. Readers on other threads go through {@link #read}, which
 * holds a read lock and refuses a closed database; {@link #close} takes the lock exclusively, so it
 * waits for reads in progress and no read starts on a closed database.
 *
 * <p>The write-ahead log stays on, unsynced: the Raft log is the redo log, and RocksDB recovers a
 * consistent prefix whose applied position tells the consensus layer where to resume.
 */
public final class StateDatabase implements AutoCloseable {
  /** The storage format this build writes; a store with a newer format is refused. */
  public static final int FORMAT_VERSION = 1;

  static {
    loadNativeLibrary();
  }

  private final Path directory;
  private final RocksDB db;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions columnFamilyOptions;
  private final Map<Schema, ColumnFamilyHandle> families;
  private final WriteOptions writeOptions = new WriteOptions();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final boolean fresh;
  private volatile boolean closed;
  private volatile boolean closing;

  private StateDatabase(
      Path directory,
      RocksDB db,
      DBOptions dbOptions,
      ColumnFamilyOptions columnFamilyOptions,
      Map<Schema, ColumnFamilyHandle> families,
      boolean fresh) {
    this.directory = directory;
    this.db = db;
    this.dbOptions = dbOptions;
    this.columnFamilyOptions = columnFamilyOptions;
    this.families = families;
    this.fresh = fresh;
  }

  /**
   * Opens (or, in an empty directory, creates) the database with every column family, and checks
   * its storage format. Refuses a non-empty directory that holds no database, and a store written
   * by a newer format.
   */
  public static StateDatabase open(Path directory) {
    try {
      OwnerOnly.directory(directory);
    } catch (IOException e) {
      throw new StorageException("cannot create state directory " + directory + ": " + e, e);
    }
    boolean fresh = isEmptyDirectory(directory);
    if (!fresh && !exists(directory)) {
      throw new StorageException(
          "state directory "
              + directory
              + " is not empty but holds no RocksDB database (CURRENT is missing): refusing to"
              + " start from half-written state");
    }
    DBOptions dbOptions =
        new DBOptions()
            .setCreateIfMissing(fresh)
            // Also for an existing store: a column family added by a newer build starts empty.
            .setCreateMissingColumnFamilies(true)
            .setParanoidChecks(true)
            .setMaxBackgroundJobs(2)
            .setKeepLogFileNum(4)
            // A destroyed version's old record must leave the files once flushed: write-ahead
            // log files are deleted when obsolete, never archived (TTL and size limit 0) nor
            // recycled (their old contents would stay until overwritten). RocksDB's defaults,
            // said here because destruction depends on them; its info LOG holds no values.
            .setWalTtlSeconds(0)
            .setWalSizeLimitMB(0)
            .setRecycleLogFileNum(0);
    ColumnFamilyOptions cfOptions = new ColumnFamilyOptions().optimizeForPointLookup(16);
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
    for (Schema family : Schema.all()) {
      descriptors.add(new ColumnFamilyDescriptor(family.columnFamilyNameBytes(), cfOptions));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    RocksDB db;
    try {
      db = RocksDB.open(dbOptions, directory.toString(), descriptors, handles);
    } catch (RocksDBException e) {
      dbOptions.close();
      cfOptions.close();
      throw new StorageException(
          "cannot open the state store in " + directory + ": " + e.getMessage(), e);
    }
    Map<Schema, ColumnFamilyHandle> families = new EnumMap<>(Schema.class);
    for (int i = 0; i < Schema.all().size(); i++) {
      families.put(Schema.all().get(i), handles.get(i + 1));
    }
    handles.get(0).close();
    StateDatabase database =
        new StateDatabase(directory, db, dbOptions, cfOptions, families, fresh);
    try {
      database.checkFormat();
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
    return database;
  }

  /** Whether {@code directory} holds a database. */
  public static boolean exists(Path directory) {
    return Files.exists(directory.resolve("CURRENT"));
  }

  private void checkFormat() {
    try {
      if (fresh) {
        db.put(
            family(Schema.META), Schema.MetaKey.FORMAT_VERSION, StoreKeys.intBytes(FORMAT_VERSION));
      }
      byte[] format = db.get(family(Schema.META), Schema.MetaKey.FORMAT_VERSION);
      if (format == null || StoreKeys.readInt(format) > FORMAT_VERSION) {
        throw new StorageException(
            "state store in "
                + directory
                + " has format "
                + (format == null ? "unknown" : StoreKeys.readInt(format))
                + "; this build reads format "
                + FORMAT_VERSION);
      }
    } catch (RocksDBException e) {
      throw new StorageException("cannot read the state store in " + directory + ": " + e, e);
    }
  }

  /** The directory the database lives in. */
  public Path directory() {
    return directory;
  }

  /** The handle of {@code family}. */
  public ColumnFamilyHandle family(Schema family) {
    return families.get(family);
  }

  /** The value of {@code key} in {@code family}, or null. For the apply thread. */
  public byte[] get(Schema family, byte[] key) throws RocksDBException {
    return db.get(family(family), key);
  }

  /** The value of {@code key} in {@code family} read with {@code options}, or null. */
  public byte[] get(Schema family, ReadOptions options, byte[] key) throws RocksDBException {
    return db.get(family(family), options, key);
  }

  /** A new iterator over {@code family}. For the apply thread, or inside {@link #read}. */
  public RocksIterator newIterator(Schema family) {
    return db.newIterator(family(family));
  }

  /** A new iterator over {@code family} with {@code options}. */
  public RocksIterator newIterator(Schema family, ReadOptions options) {
    return db.newIterator(family(family), options);
  }

  /** Writes {@code batch} atomically. */
  public void write(WriteBatch batch) throws RocksDBException {
    db.write(writeOptions, batch);
  }

  /** A read by another thread than apply: the database stays open while it runs. */
  @FunctionalInterface
  public interface Read<T> {
    T run(StateDatabase database) throws RocksDBException, InvalidProtocolBufferException;
  }

  /**
   * Runs {@code read} under the read lock; a RocksDB or decoding failure becomes a {@link
   * StorageException} saying {@code what} could not be read.
   *
   * @throws StorageException also when the database was closed
   */
  public <T> T read(String what, Read<T> read) {
    lock.readLock().lock();
    try {
      checkOpen();
      return read.run(this);
    } catch (RocksDBException | InvalidProtocolBufferException e) {
      throw new StorageException("cannot read " + what, e);
    } finally {
      lock.readLock().unlock();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new StorageException(
          "the state store was closed (replaced by a snapshot or shut down)");
    }
  }

  /** Forces memtables of every family to disk and waits for it. */
  public void flush() throws RocksDBException {
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
      db.flush(flush, new ArrayList<>(families.values()));
    }
  }

  /**
   * Compacts all of {@code family} into the bottom level, rewriting every table file even when
   * RocksDB would otherwise move it untouched, and waits for it: afterwards no table file of the
   * family holds a value that was overwritten or deleted before the call.
   */
  public void compactFully(Schema family) throws RocksDBException {
    try (CompactRangeOptions options =
        new CompactRangeOptions()
            .setBottommostLevelCompaction(
                CompactRangeOptions.BottommostLevelCompaction.kForceOptimized)
            .setExclusiveManualCompaction(true)
            .setChangeLevel(false)) {
      db.compactRange(family(family), null, null, options);
    }
  }

  /** The RocksDB handle, for a checkpoint of the whole database. */
  public RocksDB rocksDb() {
    return db;
  }

  /**
   * Whether {@link #close} was called or is waiting for reads to finish: a long read checks it and
   * stops early.
   */
  public boolean isClosing() {
    return closing;
  }

  /** Whether {@link #close} was called. */
  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    // A long read (the background digest check) sees this and stops, so close does not wait for it.
    closing = true;
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
    } finally {
      lock.writeLock().unlock();
    }
    families.values().forEach(ColumnFamilyHandle::close);
    db.close();
    writeOptions.close();
    dbOptions.close();
    columnFamilyOptions.close();
  }

  private static boolean isEmptyDirectory(Path directory) {
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.findAny().isEmpty();
    } catch (IOException e) {
      throw new StorageException("cannot read state directory " + directory + ": " + e, e);
    }
  }

  private static void loadNativeLibrary() {
    try {
      RocksDB.loadLibrary();
    } catch (Throwable e) {
      throw new StorageException(
          "cannot load RocksDB's native library ("
              + e
              + "); if java.io.tmpdir is mounted noexec, point ROCKSDB_SHAREDLIB_DIR or"
              + " -Djava.io.tmpdir to a directory where code may run",
          e);
    }
  }
}
