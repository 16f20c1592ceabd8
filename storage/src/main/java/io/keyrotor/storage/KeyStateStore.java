package io.keyrotor.storage;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RequestRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.apply.AuditAction;
import io.keyrotor.storage.apply.CommandDispatcher;
import io.keyrotor.storage.apply.Effects;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.stream.Stream;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The replicated state on one node: RocksDB for durability and an in-memory view of keys and nodes
 * for reads.
 *
 * <p>{@link #apply} is called by one thread, in log order. Each call writes one WriteBatch holding
 * the state change, the request-id record, the audit record, the applied position and the digest
 * accumulator, so the durable state and the position it claims never disagree. Readers on other
 * threads see each key replaced atomically; {@link #appliedPosition()} moves only after the view
 * reflects it.
 *
 * <p>The RocksDB write-ahead log stays on, unsynced: the Raft log is the redo log, and RocksDB
 * recovers a consistent prefix whose applied position tells the consensus layer where to resume.
 * {@link #checkpoint} flushes before it returns, so a snapshot never claims more than is durable.
 */
public final class KeyStateStore implements StateView, AutoCloseable {
  /** How long a request id is remembered after its command, for retried writes. */
  public static final Duration REQUEST_RETENTION = Duration.ofHours(24);

  private static final int FORMAT_VERSION = 1;
  private static final int MAX_EVICTIONS_PER_COMMAND = 16;
  private static final byte[] GENESIS_AUDIT_HEAD = new byte[32];

  static {
    loadNativeLibrary();
  }

  private final Path directory;
  private final RocksDB db;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions columnFamilyOptions;
  private final Map<Schema, ColumnFamilyHandle> families;
  private final WriteOptions writeOptions = new WriteOptions();
  private final ConcurrentSkipListMap<String, KeyRecord> keys = new ConcurrentSkipListMap<>();
  // Keys whose newest version waits for validation: what the version validators look at, so their
  // cost follows the rotations in progress, not the number of keys. Derived, in memory only.
  private final ConcurrentSkipListSet<String> awaitingValidation = new ConcurrentSkipListSet<>();
  private final ConcurrentSkipListMap<String, NodeRecord> nodes = new ConcurrentSkipListMap<>();
  private final ConcurrentSkipListMap<String, ZoneMasterKeyRecord> zoneMasterKeys =
      new ConcurrentSkipListMap<>();
  private final ConcurrentSkipListMap<String, BulkRotationRecord> bulkRotations =
      new ConcurrentSkipListMap<>();
  private final CommandDispatcher dispatcher =
      new CommandDispatcher(
          new StateReader() {
            @Override
            public Optional<KeyRecord> key(String name) {
              return Optional.ofNullable(keys.get(name));
            }

            @Override
            public java.util.Collection<KeyRecord> keys() {
              return keys.values();
            }

            @Override
            public java.util.Collection<NodeRecord> nodes() {
              return nodes.values();
            }

            @Override
            public Optional<BulkRotationRecord> bulkRotation(String id) {
              return Optional.ofNullable(bulkRotations.get(id));
            }

            @Override
            public Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone) {
              return Optional.ofNullable(zoneMasterKeys.get(zone));
            }
          });

  /** The cursor of the newest event: (log index << 16) | sequence; -1 when there is none. */
  private volatile long lastEventCursor = -1;

  private final Object eventSignal = new Object();

  /** Readers on other threads hold it around RocksDB calls; close takes it exclusively. */
  private final java.util.concurrent.locks.ReentrantReadWriteLock dbLock =
      new java.util.concurrent.locks.ReentrantReadWriteLock();

  private volatile boolean closed;
  private volatile AppliedPosition applied;
  private volatile long lastCommandTimeMillis;
  private volatile byte[] auditHead;
  private volatile String reportedDigest;
  private StateDigest digest;
  private byte[] evictionCursor;

  private KeyStateStore(
      Path directory,
      RocksDB db,
      DBOptions dbOptions,
      ColumnFamilyOptions columnFamilyOptions,
      Map<Schema, ColumnFamilyHandle> families) {
    this.directory = directory;
    this.db = db;
    this.dbOptions = dbOptions;
    this.columnFamilyOptions = columnFamilyOptions;
    this.families = families;
  }

  /**
   * Opens (or creates) the store in {@code directory}, loads the in-memory view and verifies the
   * stored digest against the data. Refuses, with a clear message, a directory that is not a
   * keyrotor state store, a store written by a newer format, or one whose data and digest disagree.
   */
  public static KeyStateStore open(Path directory) {
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new StorageException("cannot create state directory " + directory + ": " + e, e);
    }
    boolean fresh = isEmptyDirectory(directory);
    if (!fresh && !Files.exists(directory.resolve("CURRENT"))) {
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
            .setKeepLogFileNum(4);
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
    KeyStateStore store = new KeyStateStore(directory, db, dbOptions, cfOptions, families);
    try {
      store.load(fresh);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  /**
   * Replaces the store in {@code directory} with a copy of the checkpoint in {@code checkpoint}
   * (immutable table files are hard-linked, everything else copied). The store must be closed.
   */
  public static void restoreFromCheckpoint(Path checkpoint, Path directory) {
    try {
      deleteRecursively(directory);
      Files.createDirectories(directory);
      try (Stream<Path> files = Files.list(checkpoint)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          String fileName = file.getFileName().toString();
          if (fileName.endsWith(".md5")) {
            continue; // checksums written by the snapshot transfer, not part of the database
          }
          Path target = directory.resolve(fileName);
          if (file.getFileName().toString().endsWith(".sst")) {
            try {
              Files.createLink(target, file);
              continue;
            } catch (IOException | UnsupportedOperationException e) {
              // Different file system: fall through to a copy.
            }
          }
          Files.copy(file, target);
        }
      }
    } catch (IOException e) {
      throw new StorageException(
          "cannot restore the state store from checkpoint " + checkpoint + ": " + e, e);
    }
  }

  /** Whether {@code directory} holds a state store. */
  public static boolean exists(Path directory) {
    return Files.exists(directory.resolve("CURRENT"));
  }

  /**
   * Applies {@code command}, the log entry at ({@code term}, {@code index}). An entry at or below
   * the applied position (a replay after restart) changes nothing and returns the remembered result
   * of its request id if there is one.
   */
  public CommandResult apply(Command command, long term, long index) {
    if (index <= applied.index()) {
      return replayedResult(command, index);
    }
    long time = Math.max(lastCommandTimeMillis, command.getProposedTimeUnixMillis());
    String requestId = command.getRequestId();
    Optional<RequestRecord> remembered =
        requestId.isEmpty() ? Optional.empty() : request(requestId);
    StateDigest nextDigest = digest.copy();
    try (WriteBatch batch = new WriteBatch()) {
      Effects effects;
      boolean deduplicated = remembered.isPresent();
      if (deduplicated) {
        effects =
            Effects.builder(AuditAction.DEDUPLICATED)
                .result(remembered.get().getResult())
                .detail(
                    "request id seen at index " + remembered.get().getResult().getAppliedIndex())
                .build();
      } else {
        effects = dispatcher.apply(command, index, time);
      }
      // One record per key (a later write of the same key in these effects wins), so the digest
      // removes exactly the stored value once.
      java.util.Map<String, KeyRecord> keyWrites = new java.util.LinkedHashMap<>();
      effects.allKeyWrites().forEach(k -> keyWrites.put(k.getName(), k));
      for (KeyRecord key : keyWrites.values()) {
        put(
            batch,
            nextDigest,
            Schema.KEYS,
            utf8(key.getName()),
            key.toByteArray(),
            currentKey(key));
      }
      if (effects.nodeWrite().isPresent()) {
        NodeRecord node = effects.nodeWrite().get();
        NodeRecord previous = nodes.get(node.getId());
        put(
            batch,
            nextDigest,
            Schema.NODES,
            utf8(node.getId()),
            node.toByteArray(),
            previous == null ? null : previous.toByteArray());
      }
      if (effects.bulkRotationWrite().isPresent()) {
        BulkRotationRecord job = effects.bulkRotationWrite().get();
        BulkRotationRecord previous = bulkRotations.get(job.getId());
        put(
            batch,
            nextDigest,
            Schema.BULK_ROTATIONS,
            utf8(job.getId()),
            job.toByteArray(),
            previous == null ? null : previous.toByteArray());
      }
      List<KeyEventRecord> events = new ArrayList<>();
      for (KeyEventRecord event : effects.events()) {
        KeyEventRecord stored =
            event.toBuilder().setLogIndex(index).setSequence(events.size()).build();
        events.add(stored);
        batch.put(
            families.get(Schema.EVENTS),
            eventKey(index, stored.getSequence()),
            stored.toByteArray());
        batch.put(
            families.get(Schema.KEY_EVENTS),
            keyEventKey(stored.getKeyName(), index, stored.getSequence()),
            new byte[0]);
      }
      if (effects.zoneMasterKeyWrite().isPresent()) {
        ZoneMasterKeyRecord zone = effects.zoneMasterKeyWrite().get();
        ZoneMasterKeyRecord previous = zoneMasterKeys.get(zone.getZone());
        put(
            batch,
            nextDigest,
            Schema.ZONE_MASTER_KEYS,
            utf8(zone.getZone()),
            zone.toByteArray(),
            previous == null ? null : previous.toByteArray());
      }
      if (!requestId.isEmpty() && !deduplicated) {
        RequestRecord record =
            RequestRecord.newBuilder().setResult(effects.result()).setTimeUnixMillis(time).build();
        put(batch, nextDigest, Schema.REQUESTS, utf8(requestId), record.toByteArray(), null);
        batch.put(families.get(Schema.REQUEST_EXPIRY), expiryKey(time, requestId), new byte[0]);
      }
      evictExpiredRequests(batch, nextDigest, time, requestId);
      AuditRecord audit = auditRecord(command, index, time, effects);
      batch.put(families.get(Schema.AUDIT), longBytes(index), audit.toByteArray());
      byte[] nextHead = audit.getHash().toByteArray();
      AppliedPosition position = new AppliedPosition(term, index);
      putMeta(batch, position, time, nextHead, nextDigest);
      db.write(writeOptions, batch);

      keyWrites.values().forEach(this::putKey);
      effects.nodeWrite().ifPresent(n -> nodes.put(n.getId(), n));
      effects.bulkRotationWrite().ifPresent(j -> bulkRotations.put(j.getId(), j));
      effects.zoneMasterKeyWrite().ifPresent(z -> zoneMasterKeys.put(z.getZone(), z));
      publish(position, time, nextHead, nextDigest);
      if (!events.isEmpty()) {
        KeyEventRecord last = events.get(events.size() - 1);
        lastEventCursor = StateView.cursorOf(last.getLogIndex(), last.getSequence());
        synchronized (eventSignal) {
          eventSignal.notifyAll();
        }
      }

      CommandResult.Builder result =
          CommandResult.newBuilder().setOutcome(effects.result()).setDeduplicated(deduplicated);
      String keyName = effects.result().getKeyName();
      if (!keyName.isEmpty() && keys.containsKey(keyName)) {
        result.setKey(keys.get(keyName));
      }
      return result.build();
    } catch (RocksDBException e) {
      throw new StorageException("cannot write log entry " + index + " to the state store", e);
    }
  }

  /**
   * Records that the log entry at ({@code term}, {@code index}) was applied without changing state
   * (a configuration or no-op entry), so the durable position never lags what Ratis considers
   * applied.
   */
  public void recordPosition(long term, long index) {
    if (index <= applied.index()) {
      return;
    }
    try (WriteBatch batch = new WriteBatch()) {
      AppliedPosition position = new AppliedPosition(term, index);
      putMeta(batch, position, lastCommandTimeMillis, auditHead, digest);
      db.write(writeOptions, batch);
      publish(position, lastCommandTimeMillis, auditHead, digest);
    } catch (RocksDBException e) {
      throw new StorageException("cannot record applied position " + index, e);
    }
  }

  /** The position of the last applied entry. */
  @Override
  public AppliedPosition appliedPosition() {
    return applied;
  }

  /** The effective time of the last applied command (leader time, clamped to be monotonic). */
  @Override
  public long lastCommandTimeMillis() {
    return lastCommandTimeMillis;
  }

  /** The state digest at {@link #appliedPosition()}, hex; equal on every replica at that index. */
  @Override
  public String digest() {
    return reportedDigest;
  }

  /** The head of the audit chain (SHA-256 of the last audit record), hex. */
  @Override
  public String auditHead() {
    return java.util.HexFormat.of().formatHex(auditHead);
  }

  /** The current record of a key. */
  @Override
  public Optional<KeyRecord> key(String name) {
    return Optional.ofNullable(keys.get(name));
  }

  /** Every key in name order (a live, read-only view). */
  @Override
  public NavigableMap<String, KeyRecord> keys() {
    return Collections.unmodifiableNavigableMap(keys);
  }

  /**
   * The names of the keys whose newest version is enabled and waits for validation (gated, not yet
   * validated; past its deadline too, until the gate cancels it), in name order: a live, read-only
   * view, updated with {@link #keys()} before the applied position is published.
   */
  @Override
  public NavigableSet<String> keysAwaitingValidation() {
    return Collections.unmodifiableNavigableSet(awaitingValidation);
  }

  private void putKey(KeyRecord key) {
    keys.put(key.getName(), key);
    if (StateView.awaitsValidation(key)) {
      awaitingValidation.add(key.getName());
    } else {
      awaitingValidation.remove(key.getName());
    }
  }

  /** Every registered node in id order (a live, read-only view). */
  @Override
  public NavigableMap<String, NodeRecord> nodes() {
    return Collections.unmodifiableNavigableMap(nodes);
  }

  /** The zone master key record of every zone ever rotated, by zone (a live, read-only view). */
  @Override
  public NavigableMap<String, ZoneMasterKeyRecord> zoneMasterKeys() {
    return Collections.unmodifiableNavigableMap(zoneMasterKeys);
  }

  /** Audit records from {@code fromIndex} on, at most {@code limit}. */
  @Override
  public List<AuditRecord> audit(long fromIndex, int limit) {
    List<AuditRecord> out = new ArrayList<>();
    dbLock.readLock().lock();
    try (RocksIterator it = newAuditIterator()) {
      for (it.seek(longBytes(Math.max(0, fromIndex)));
          it.isValid() && out.size() < limit;
          it.next()) {
        out.add(AuditRecord.parseFrom(it.value()));
      }
      it.status();
    } catch (RocksDBException | InvalidProtocolBufferException e) {
      throw new StorageException("cannot read the audit log", e);
    } finally {
      dbLock.readLock().unlock();
    }
    return out;
  }

  /** The bulk rotations started so far, by id (a live, read-only view). */
  @Override
  public NavigableMap<String, BulkRotationRecord> bulkRotations() {
    return Collections.unmodifiableNavigableMap(bulkRotations);
  }

  /** The cursor of the newest event, or -1 if there is none yet. */
  @Override
  public long lastEventCursor() {
    return lastEventCursor;
  }

  /** Up to {@code limit} events after {@code cursor} (exclusive), in log order. */
  @Override
  public List<KeyEventRecord> eventsAfter(long cursor, int limit) {
    List<KeyEventRecord> out = new ArrayList<>();
    long next = cursor + 1;
    dbLock.readLock().lock();
    try {
      checkOpen();
      try (RocksIterator it = db.newIterator(families.get(Schema.EVENTS))) {
        for (it.seek(eventKey(Math.max(0, next >>> 16), (int) (next & 0xffff)));
            it.isValid() && out.size() < limit;
            it.next()) {
          out.add(KeyEventRecord.parseFrom(it.value()));
        }
        it.status();
      }
    } catch (RocksDBException | InvalidProtocolBufferException e) {
      throw new StorageException("cannot read the event stream", e);
    } finally {
      dbLock.readLock().unlock();
    }
    return out;
  }

  /** The events of one key, oldest first, at most {@code limit}. */
  @Override
  public List<KeyEventRecord> keyEvents(String name, int limit) {
    List<KeyEventRecord> out = new ArrayList<>();
    byte[] prefix = keyEventPrefix(name);
    dbLock.readLock().lock();
    try {
      checkOpen();
      try (RocksIterator it = db.newIterator(families.get(Schema.KEY_EVENTS))) {
        for (it.seek(prefix); it.isValid() && out.size() < limit; it.next()) {
          byte[] k = it.key();
          if (!startsWith(k, prefix)) {
            break;
          }
          ByteBuffer tail = ByteBuffer.wrap(k, prefix.length, k.length - prefix.length);
          long index = tail.getLong();
          int sequence = tail.getInt();
          byte[] value = db.get(families.get(Schema.EVENTS), eventKey(index, sequence));
          if (value != null) {
            out.add(KeyEventRecord.parseFrom(value));
          }
        }
        it.status();
      }
    } catch (RocksDBException | InvalidProtocolBufferException e) {
      throw new StorageException("cannot read the events of key " + name, e);
    } finally {
      dbLock.readLock().unlock();
    }
    return out;
  }

  /**
   * Waits until an event after {@code cursor} exists or {@code timeoutMillis} passed; returns
   * whether one does.
   */
  @Override
  public boolean awaitEventsAfter(long cursor, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
    synchronized (eventSignal) {
      while (lastEventCursor <= cursor && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        eventSignal.wait(Math.max(1, left / 1_000_000));
      }
    }
    return lastEventCursor > cursor;
  }

  /** The remembered outcome of a request id, if it is still retained. */
  public Optional<RequestRecord> request(String requestId) {
    dbLock.readLock().lock();
    try {
      checkOpen();
      byte[] value = db.get(families.get(Schema.REQUESTS), utf8(requestId));
      return value == null ? Optional.empty() : Optional.of(RequestRecord.parseFrom(value));
    } catch (RocksDBException | InvalidProtocolBufferException e) {
      throw new StorageException("cannot read request record", e);
    } finally {
      dbLock.readLock().unlock();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new StorageException(
          "the state store was closed (replaced by a snapshot or shut down)");
    }
  }

  /**
   * Writes a consistent checkpoint of the store to {@code target} (which must not exist) after
   * flushing memtables, and returns the applied position it holds. Cheap: table files are hard
   * links. Must not run concurrently with {@link #apply}.
   */
  public AppliedPosition checkpoint(Path target) {
    AppliedPosition position = applied;
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true);
        Checkpoint checkpoint = Checkpoint.create(db)) {
      db.flush(flush, new ArrayList<>(families.values()));
      checkpoint.createCheckpoint(target.toString());
    } catch (RocksDBException e) {
      throw new StorageException("cannot write checkpoint to " + target + ": " + e.getMessage(), e);
    }
    return position;
  }

  /** Reads the applied position stored in a checkpoint (or store) directory without opening it. */
  public static AppliedPosition readPosition(Path directory) {
    try (KeyStateStore store = open(directory)) {
      return store.appliedPosition();
    }
  }

  /** Forces buffered writes to disk (used before the log is purged up to a snapshot). */
  public void flush() {
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
      db.flush(flush, new ArrayList<>(families.values()));
    } catch (RocksDBException e) {
      throw new StorageException("cannot flush the state store", e);
    }
  }

  public Path directory() {
    return directory;
  }

  @Override
  public void close() {
    dbLock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
    } finally {
      dbLock.writeLock().unlock();
    }
    families.values().forEach(ColumnFamilyHandle::close);
    db.close();
    writeOptions.close();
    dbOptions.close();
    columnFamilyOptions.close();
  }

  private RocksIterator newAuditIterator() {
    checkOpen();
    return db.newIterator(families.get(Schema.AUDIT));
  }

  private void load(boolean fresh) {
    try {
      if (fresh) {
        db.put(families.get(Schema.META), Schema.MetaKey.FORMAT_VERSION, intBytes(FORMAT_VERSION));
      }
      byte[] format = db.get(families.get(Schema.META), Schema.MetaKey.FORMAT_VERSION);
      if (format == null || ByteBuffer.wrap(format).getInt() > FORMAT_VERSION) {
        throw new StorageException(
            "state store in "
                + directory
                + " has format "
                + (format == null ? "unknown" : ByteBuffer.wrap(format).getInt())
                + "; this build reads format "
                + FORMAT_VERSION);
      }
      byte[] position = db.get(families.get(Schema.META), Schema.MetaKey.APPLIED_POSITION);
      applied =
          position == null
              ? AppliedPosition.INITIAL
              : new AppliedPosition(
                  ByteBuffer.wrap(position).getLong(0), ByteBuffer.wrap(position).getLong(8));
      byte[] time = db.get(families.get(Schema.META), Schema.MetaKey.LAST_COMMAND_TIME);
      lastCommandTimeMillis = time == null ? 0 : ByteBuffer.wrap(time).getLong();
      byte[] head = db.get(families.get(Schema.META), Schema.MetaKey.AUDIT_HEAD);
      auditHead = head == null ? GENESIS_AUDIT_HEAD : head;
      StateDigest stored =
          StateDigest.fromBytes(db.get(families.get(Schema.META), Schema.MetaKey.DIGEST_SUM));

      StateDigest recomputed = StateDigest.empty();
      for (Schema family : Schema.all()) {
        if (!family.inDigest()) {
          continue;
        }
        try (RocksIterator it = db.newIterator(families.get(family))) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            byte[] k = it.key();
            byte[] v = it.value();
            recomputed.add(family, k, v);
            if (family == Schema.KEYS) {
              putKey(KeyRecord.parseFrom(v));
            } else if (family == Schema.NODES) {
              NodeRecord node = NodeRecord.parseFrom(v);
              nodes.put(node.getId(), node);
            } else if (family == Schema.BULK_ROTATIONS) {
              BulkRotationRecord job = BulkRotationRecord.parseFrom(v);
              bulkRotations.put(job.getId(), job);
            } else if (family == Schema.ZONE_MASTER_KEYS) {
              ZoneMasterKeyRecord zone = ZoneMasterKeyRecord.parseFrom(v);
              zoneMasterKeys.put(zone.getZone(), zone);
            }
          }
          it.status();
        }
      }
      if (!recomputed.equals(stored)) {
        throw new StorageException(
            "state store in "
                + directory
                + " is corrupt: its data does not match its stored digest at applied index "
                + applied.index()
                + "; refusing to serve from it (remove the node's data directory to rebuild it"
                + " from its peers)");
      }
      digest = stored;
      reportedDigest = digest.report(auditHead);
      try (RocksIterator it = db.newIterator(families.get(Schema.EVENTS))) {
        it.seekToLast();
        if (it.isValid()) {
          KeyEventRecord last = KeyEventRecord.parseFrom(it.value());
          lastEventCursor = StateView.cursorOf(last.getLogIndex(), last.getSequence());
        }
        it.status();
      }
    } catch (RocksDBException e) {
      throw new StorageException("cannot read the state store in " + directory + ": " + e, e);
    } catch (InvalidProtocolBufferException e) {
      throw new StorageException(
          "state store in " + directory + " holds a record that cannot be decoded: " + e, e);
    }
  }

  private void publish(AppliedPosition position, long time, byte[] head, StateDigest next) {
    digest = next;
    auditHead = head;
    lastCommandTimeMillis = time;
    reportedDigest = next.report(head);
    applied = position;
  }

  private void putMeta(
      WriteBatch batch, AppliedPosition position, long time, byte[] head, StateDigest next)
      throws RocksDBException {
    ColumnFamilyHandle meta = families.get(Schema.META);
    batch.put(
        meta,
        Schema.MetaKey.APPLIED_POSITION,
        ByteBuffer.allocate(16).putLong(position.term()).putLong(position.index()).array());
    batch.put(meta, Schema.MetaKey.LAST_COMMAND_TIME, longBytes(time));
    batch.put(meta, Schema.MetaKey.AUDIT_HEAD, head);
    batch.put(meta, Schema.MetaKey.DIGEST_SUM, next.toBytes());
  }

  private void put(
      WriteBatch batch,
      StateDigest next,
      Schema family,
      byte[] key,
      byte[] value,
      byte[] previousValueOrNull)
      throws RocksDBException {
    if (previousValueOrNull != null) {
      next.remove(family, key, previousValueOrNull);
    }
    next.add(family, key, value);
    batch.put(families.get(family), key, value);
  }

  private byte[] currentKey(KeyRecord key) {
    KeyRecord previous = keys.get(key.getName());
    return previous == null ? null : previous.toByteArray();
  }

  private void evictExpiredRequests(
      WriteBatch batch, StateDigest next, long time, String currentRequestId)
      throws RocksDBException {
    long cutoff = time - REQUEST_RETENTION.toMillis();
    if (cutoff <= 0) {
      return;
    }
    byte[] upper = longBytes(cutoff);
    try (Slice upperBound = new Slice(upper);
        ReadOptions options = new ReadOptions().setIterateUpperBound(upperBound);
        RocksIterator it = db.newIterator(families.get(Schema.REQUEST_EXPIRY), options)) {
      if (evictionCursor != null) {
        it.seek(evictionCursor);
      } else {
        it.seekToFirst();
      }
      int evicted = 0;
      for (; it.isValid() && evicted < MAX_EVICTIONS_PER_COMMAND; it.next()) {
        byte[] expiryKey = it.key();
        long recordTime = ByteBuffer.wrap(expiryKey).getLong(0);
        byte[] id = java.util.Arrays.copyOfRange(expiryKey, 8, expiryKey.length);
        batch.delete(families.get(Schema.REQUEST_EXPIRY), expiryKey);
        evictionCursor = expiryKey;
        evicted++;
        if (new String(id, StandardCharsets.UTF_8).equals(currentRequestId)) {
          continue;
        }
        byte[] stored = db.get(families.get(Schema.REQUESTS), id);
        if (stored == null) {
          continue;
        }
        try {
          if (RequestRecord.parseFrom(stored).getTimeUnixMillis() != recordTime) {
            continue; // the id was used again later; that record stays
          }
        } catch (InvalidProtocolBufferException e) {
          throw new StorageException("cannot decode a request record", e);
        }
        next.remove(Schema.REQUESTS, id, stored);
        batch.delete(families.get(Schema.REQUESTS), id);
      }
      it.status();
    }
  }

  private AuditRecord auditRecord(Command command, long index, long time, Effects effects) {
    CommandResultRecord result = effects.result();
    AuditRecord unsigned =
        AuditRecord.newBuilder()
            .setLogIndex(index)
            .setTimeUnixMillis(time)
            .setRequestId(command.getRequestId())
            .setProposerNode(command.getOriginNode())
            .setAction(effects.action().name())
            .setKeyName(result.getKeyName())
            .setVersion(result.getVersion())
            .setResultCode(result.getCode())
            .setResultReason(result.getReason())
            .setPreviousHash(ByteString.copyFrom(auditHead))
            .setDetail(effects.auditDetail())
            .build();
    MessageDigest sha = StateDigest.sha256();
    sha.update(auditHead);
    sha.update(unsigned.toByteArray());
    return unsigned.toBuilder().setHash(ByteString.copyFrom(sha.digest())).build();
  }

  private CommandResult replayedResult(Command command, long index) {
    CommandResult.Builder result = CommandResult.newBuilder().setDeduplicated(true);
    Optional<RequestRecord> remembered =
        command.getRequestId().isEmpty() ? Optional.empty() : request(command.getRequestId());
    if (remembered.isPresent()) {
      result.setOutcome(remembered.get().getResult());
      key(remembered.get().getResult().getKeyName()).ifPresent(result::setKey);
    } else {
      result.setOutcome(
          CommandResultRecord.newBuilder()
              .setCode(com.google.rpc.Code.OK_VALUE)
              .setAppliedIndex(index)
              .setMessage("already applied"));
    }
    return result.build();
  }

  private static byte[] eventKey(long index, int sequence) {
    return ByteBuffer.allocate(12).putLong(index).putInt(sequence).array();
  }

  private static byte[] keyEventPrefix(String name) {
    byte[] n = utf8(name);
    return ByteBuffer.allocate(n.length + 1).put(n).put((byte) 0).array();
  }

  private static byte[] keyEventKey(String name, long index, int sequence) {
    byte[] prefix = keyEventPrefix(name);
    return ByteBuffer.allocate(prefix.length + 12)
        .put(prefix)
        .putLong(index)
        .putInt(sequence)
        .array();
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    if (bytes.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (bytes[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static byte[] expiryKey(long time, String requestId) {
    byte[] id = utf8(requestId);
    return ByteBuffer.allocate(8 + id.length).putLong(time).put(id).array();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  private static byte[] intBytes(int v) {
    return ByteBuffer.allocate(4).putInt(v).array();
  }

  private static boolean isEmptyDirectory(Path directory) {
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.findAny().isEmpty();
    } catch (IOException e) {
      throw new StorageException("cannot read state directory " + directory + ": " + e, e);
    }
  }

  static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      List<Path> all = new ArrayList<>(walk.toList());
      Collections.reverse(all);
      for (Path p : all) {
        Files.delete(p);
      }
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
