package io.keyrotor.storage;

import com.google.protobuf.InvalidProtocolBufferException;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RequestRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.apply.AuditAction;
import io.keyrotor.storage.apply.CommandDispatcher;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.audit.AuditChain;
import io.keyrotor.storage.audit.HistoryTrim;
import io.keyrotor.storage.checkpoint.Checkpoints;
import io.keyrotor.storage.dedup.RequestTable;
import io.keyrotor.storage.events.EventStream;
import io.keyrotor.storage.groupcommit.BatchEntryStaging;
import io.keyrotor.storage.receipt.DestructionReceipts;
import io.keyrotor.storage.retention.RetentionStaging;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import io.keyrotor.storage.schema.StoredMeta;
import io.keyrotor.storage.version.ClusterVersionState;
import io.keyrotor.storage.view.KeyCache;
import io.keyrotor.storage.view.RecordViews;
import io.keyrotor.storage.view.RecordWrites;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/**
 * The replicated state on one node, and the only writer of it: RocksDB for durability and reads,
 * with a bounded cache of key records and the few other records in memory. It coordinates the
 * pieces in its sub-packages (the database and its schema, the record views, the request-id table,
 * the audit chain, the event stream, checkpoints).
 *
 * <p>{@link #apply} is called by one thread, in log order: request-id check, transition, then one
 * WriteBatch holding the state change, the request-id record, the events, the audit record, the
 * applied position and the digest accumulator, so the durable state and the position it claims
 * never disagree; then the views, the audit head and the event cursor move. Readers on other
 * threads see each record replaced atomically; {@link #appliedPosition()} moves only after the
 * views reflect it.
 *
 * <p>{@link #checkpoint} flushes before it returns, so a snapshot never claims more than is
 * durable.
 *
 * <p>Batch entries ({@link BatchEntryStaging}) and history trims ({@link RetentionStaging}) stage
 * their part of an entry's write batch through their own classes. Over 500 lines because it is both
 * the one writer and the {@link StateView}: most of its length is one-line reads handed to the
 * views, the audit chain and the event stream.
 */
public final class KeyStateStore implements StateView, StateExportSource, AutoCloseable {
  /** How long a request id is remembered after its command, for retried writes. */
  public static final Duration REQUEST_RETENTION = RequestTable.RETENTION;

  private final StateDatabase database;
  private final RecordViews views;
  private final IntegrityCheck integrity;
  private final RequestTable requests;
  private final CommandDispatcher dispatcher;
  private final ClusterVersionState clusterVersion;
  private final RetentionStaging retention;
  private final BatchEntryStaging batchEntries = new BatchEntryStaging();
  private AuditChain auditChain;
  private EventStream events;

  private volatile AppliedPosition applied;

  /**
   * A sequence counter for {@link #readAtOnePosition}: odd while the apply thread changes the views
   * and publishes the position, even otherwise (only the apply thread writes it).
   */
  private final java.util.concurrent.atomic.AtomicLong publications =
      new java.util.concurrent.atomic.AtomicLong();

  private volatile long lastCommandTimeMillis;
  private volatile String reportedDigest;
  private StateDigest digest;

  private KeyStateStore(StateDatabase database, Limits limits, long keyCacheBytes) {
    this.database = database;
    this.views = new RecordViews(database, keyCacheBytes);
    this.integrity = new IntegrityCheck(database);
    this.requests = new RequestTable(database, limits.requestRecords());
    this.clusterVersion = new ClusterVersionState(database);
    this.retention = new RetentionStaging(database, views);
    this.dispatcher =
        new CommandDispatcher(views.reader(), views::accessPolicy, limits)
            .withClusterVersion(clusterVersion::active);
  }

  /**
   * Opens (or creates) the store in {@code directory} with a key cache of {@link
   * KeyCache#DEFAULT_BYTES}. Refuses, with a clear message, a directory that is not a keyrotor
   * state store or a store written by a newer format. No key record is read: the check of the data
   * against the stored digest runs in the background ({@link #integrity()}).
   */
  public static KeyStateStore open(Path directory) {
    return open(directory, Limits.CEILINGS, KeyCache.DEFAULT_BYTES);
  }

  /** {@link #open(Path)} with a key cache of at most {@code keyCacheBytes} (estimated heap). */
  public static KeyStateStore open(Path directory, long keyCacheBytes) {
    return open(directory, Limits.CEILINGS, keyCacheBytes);
  }

  /**
   * {@link #open(Path)} with apply refusing beyond {@code limits}: tests of the limits only; every
   * replica of a cluster must apply the same limits ({@link Limits#CEILINGS}).
   */
  public static KeyStateStore open(Path directory, Limits limits) {
    return open(directory, limits, KeyCache.DEFAULT_BYTES);
  }

  private static KeyStateStore open(Path directory, Limits limits, long keyCacheBytes) {
    KeyStateStore store = new KeyStateStore(StateDatabase.open(directory), limits, keyCacheBytes);
    try {
      store.load();
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    store.integrity.start();
    return store;
  }

  private void load() {
    Path directory = database.directory();
    try {
      StoredMeta meta = StoredMeta.read(database);
      views.load(meta.lastCommandTimeMillis());
      requests.load();
      clusterVersion.load();
      auditChain = new AuditChain(database, meta.auditHeadOrNull());
      auditChain
          .verifyFromLastCheckpoint()
          .ifPresent(
              problem -> {
                throw new StorageException(
                    "the audit chain in " + directory + " was tampered with: " + problem);
              });
      events = new EventStream(database);
      batchEntries.load(database);
      publish(meta.position(), meta.lastCommandTimeMillis(), auditChain.head(), meta.digest());
    } catch (RocksDBException e) {
      throw new StorageException("cannot read the state store in " + directory + ": " + e, e);
    } catch (InvalidProtocolBufferException e) {
      throw new StorageException(
          "state store in " + directory + " holds a record that cannot be decoded: " + e, e);
    }
  }

  /**
   * Replaces the store in {@code directory} with a copy of the checkpoint in {@code checkpoint}
   * (immutable table files are hard-linked, everything else copied). The store must be closed.
   */
  public static void restoreFromCheckpoint(Path checkpoint, Path directory) {
    Checkpoints.restore(checkpoint, directory);
  }

  /** Whether {@code directory} holds a state store. */
  public static boolean exists(Path directory) {
    return StateDatabase.exists(directory);
  }

  /**
   * Applies {@code command}, the log entry at ({@code term}, {@code index}). An entry at or below
   * the applied position (a replay after restart) changes nothing and returns the remembered result
   * of its request id if there is one.
   */
  public CommandResult apply(Command command, long term, long index) {
    if (command.hasBatch()) {
      return applyBatch(command.getBatch().getCommandsList(), term, index);
    }
    if (index <= applied.index()) {
      return result(requests.replayedOutcome(command.getRequestId(), index), true);
    }
    return applyOne(command, index, 0, new AppliedPosition(term, index), null);
  }

  /**
   * Applies the commands of a batch entry in order, each as if it were its own entry at {@code
   * index} (see {@link BatchEntryStaging}): the applied position moves to the entry with its last
   * command.
   */
  private CommandResult applyBatch(List<Command> commands, long term, long index) {
    CommandResult results =
        batchEntries.apply(
            commands,
            index,
            index <= applied.index(),
            (command, batchPosition, progressOrNull) ->
                applyOne(
                    command,
                    index,
                    batchPosition,
                    progressOrNull == null ? new AppliedPosition(term, index) : applied,
                    progressOrNull),
            command -> result(requests.replayedOutcome(command.getRequestId(), index), true));
    if (commands.isEmpty()) {
      recordPosition(term, index);
    }
    return results;
  }

  /**
   * Applies one command of the entry at {@code index} ({@code batchPosition} in its batch, 0 when
   * alone) in one RocksDB write batch that records {@code position} as applied, with {@code
   * progressOrNull} when more commands of the entry follow.
   */
  private CommandResult applyOne(
      Command command,
      long index,
      int batchPosition,
      AppliedPosition position,
      StoredMeta.BatchProgress progressOrNull) {
    // Effective time is monotonic (a new leader with a slower clock cannot move it backwards) and
    // capped by the clock witness the leader stamped (a jumped clock cannot move it forward).
    long time = CommandTime.effective(lastCommandTimeMillis, command);
    String requestId = command.getRequestId();
    Optional<RequestRecord> remembered =
        requestId.isEmpty() ? Optional.empty() : requests.lookup(requestId);
    boolean deduplicated = remembered.isPresent();
    Effects effects =
        deduplicated
            ? Effects.builder(AuditAction.DEDUPLICATED)
                .result(remembered.get().getResult())
                .detail(
                    "request id seen at index " + remembered.get().getResult().getAppliedIndex())
                .build()
            : dispatcher.apply(command, index, time);
    RecordWrites writes =
        RecordWrites.of(
            effects.allKeyWrites(),
            effects.nodeWrite(),
            effects.bulkRotationWrite(),
            effects.zoneMasterKeyWrite(),
            effects.policyWrite());
    Optional<HistoryTrim.Cut> trim = retention.plan(command, deduplicated, effects, auditChain);
    if (trim.isPresent()) {
      effects = effects.withAuditDetail(trim.get().detail());
    }
    try (StateBatch batch = new StateBatch(database, digest.copy())) {
      views.stage(batch, writes, time);
      clusterVersion.stage(batch, effects.clusterVersionWrite());
      retention.stage(batch, trim);
      List<KeyEventRecord> storedEvents = events.append(batch, index, effects.events());
      if (!requestId.isEmpty() && !deduplicated) {
        requests.record(batch, requestId, effects.result(), time);
      }
      requests.evictExpired(batch, time, requestId);
      requests.stageCount(batch);
      AuditRecord audit =
          auditChain.append(
              batch,
              command,
              index,
              batchPosition,
              time,
              effects.action().name(),
              effects.result(),
              effects.auditDetail(),
              effects.auditFields());
      if (!deduplicated && command.hasDestroyVersion()) {
        DestructionReceipts.of(
                command,
                views.key(command.getDestroyVersion().getName()),
                effects.allKeyWrites(),
                index,
                time,
                audit)
            .ifPresent(receipt -> DestructionReceipts.put(batch, receipt));
      }
      if (!deduplicated && command.hasSignDestructionReceipt() && effects.result().getCode() == 0) {
        DestructionReceipts.stageSignature(
            batch, database, command.getSignDestructionReceipt(), index);
      }
      byte[] nextHead = audit.getHash().toByteArray();
      StoredMeta.put(batch, position, time, nextHead);
      BatchEntryStaging.stage(batch, progressOrNull);
      batch.commit();
      batchEntries.committed(progressOrNull);

      publications.incrementAndGet();
      views.apply(writes);
      clusterVersion.publish(effects.clusterVersionWrite());
      retention.publish(trim);
      publish(position, time, nextHead, batch.digest());
      publications.incrementAndGet();
      events.publish(storedEvents);
    } catch (RocksDBException e) {
      throw new StorageException("cannot write log entry " + index + " to the state store", e);
    }
    return result(effects.result(), deduplicated);
  }

  private CommandResult result(CommandResultRecord outcome, boolean deduplicated) {
    CommandResult.Builder result =
        CommandResult.newBuilder().setOutcome(outcome).setDeduplicated(deduplicated);
    if (!outcome.getKeyName().isEmpty()) {
      views.key(outcome.getKeyName()).ifPresent(result::setKey);
    }
    return result.build();
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
    try (StateBatch batch = new StateBatch(database, digest)) {
      AppliedPosition position = new AppliedPosition(term, index);
      StoredMeta.put(batch, position, lastCommandTimeMillis, auditChain.head());
      batch.commit();
      publications.incrementAndGet();
      publish(position, lastCommandTimeMillis, auditChain.head(), digest);
      publications.incrementAndGet();
    } catch (RocksDBException e) {
      throw new StorageException("cannot record applied position " + index, e);
    }
  }

  private void publish(AppliedPosition position, long time, byte[] head, StateDigest next) {
    digest = next;
    auditChain.publish(head);
    lastCommandTimeMillis = time;
    reportedDigest = next.report(head);
    applied = position;
  }

  @Override
  public <T> Optional<AtPosition<T>> readAtOnePosition(
      java.util.function.Function<StateView, T> read) {
    long before = publications.get();
    if ((before & 1) != 0) {
      return Optional.empty();
    }
    AppliedPosition position = applied;
    T value = read.apply(this);
    return publications.get() == before
        ? Optional.of(new AtPosition<>(position, value))
        : Optional.empty();
  }

  @Override
  public AppliedPosition appliedPosition() {
    return applied;
  }

  @Override
  public long lastCommandTimeMillis() {
    return lastCommandTimeMillis;
  }

  @Override
  public String digest() {
    return reportedDigest;
  }

  @Override
  public String auditHead() {
    return auditChain.headHex();
  }

  @Override
  public Optional<KeyRecord> key(String name) {
    return views.key(name);
  }

  @Override
  public List<KeyRecord> keysAfter(String afterName, int limit) {
    return views.keysAfter(afterName, limit);
  }

  @Override
  public Map<String, Long> keyCountsByZone() {
    return views.keyCountsByZone();
  }

  @Override
  public List<AttentionEntry> keysNeedingAttention(
      AttentionEntry after, long beforeTimeMillis, int limit) {
    return views.keysNeedingAttention(after, beforeTimeMillis, limit);
  }

  @Override
  public IntegrityStatus integrity() {
    return integrity.status();
  }

  /**
   * Waits up to {@code timeoutMillis} for the background check of the data against the stored
   * digest to end, and returns where it stands.
   */
  public IntegrityStatus awaitIntegrityCheck(long timeoutMillis) throws InterruptedException {
    return integrity.await(timeoutMillis);
  }

  @Override
  public KeyCacheStatus keyCacheStatus() {
    KeyCache cache = views.cache();
    return new KeyCacheStatus(cache.size(), cache.weightBytes(), cache.capacityBytes());
  }

  /** The bounded cache of key records (its size, bound and statistics). */
  public KeyCache keyCache() {
    return views.cache();
  }

  @Override
  public long keyCount() {
    return views.keyCount();
  }

  @Override
  public long keyCountInZone(String zone) {
    return views.keyCountInZone(zone);
  }

  @Override
  public NavigableSet<String> keysAwaitingValidation() {
    return views.keysAwaitingValidation();
  }

  @Override
  public NavigableMap<String, NodeRecord> nodes() {
    return views.nodes();
  }

  @Override
  public NavigableMap<String, ZoneMasterKeyRecord> zoneMasterKeys() {
    return views.zoneMasterKeys();
  }

  @Override
  public NavigableMap<String, BulkRotationRecord> bulkRotations() {
    return views.bulkRotations();
  }

  @Override
  public AccessPolicy accessPolicy() {
    return views.accessPolicy();
  }

  @Override
  public int activeClusterVersion() {
    return clusterVersion.active();
  }

  @Override
  public List<AuditRecord> audit(long fromIndex, int limit) {
    return auditChain.read(fromIndex, limit);
  }

  @Override
  public Optional<AuditRecord> lastAudit() {
    return auditChain.last();
  }

  @Override
  public Optional<Long> firstAuditIndexAtOrAfter(long timeMillis) {
    return auditChain.firstIndexAtOrAfter(timeMillis);
  }

  @Override
  public long lastEventCursor() {
    return events.lastCursor();
  }

  @Override
  public List<KeyEventRecord> eventsAfter(long cursor, int limit) {
    return events.after(cursor, limit);
  }

  @Override
  public List<KeyEventRecord> keyEvents(String name, int limit) {
    return events.ofKey(name, limit);
  }

  @Override
  public boolean awaitEventsAfter(long cursor, long timeoutMillis) throws InterruptedException {
    return events.await(cursor, timeoutMillis);
  }

  @Override
  public Optional<DestructionReceiptRecord> destructionReceipt(String name, int version) {
    return DestructionReceipts.read(database, name, version);
  }

  @Override
  public Optional<String> verifyAuditChain() {
    return auditChain.verifyFromLastCheckpoint();
  }

  @Override
  public List<DestructionReceiptRecord> unsignedDestructionReceipts(int limit) {
    return DestructionReceipts.unsigned(database, limit);
  }

  /**
   * Rewrites the state store's files so no file still holds what a destroyed version's record held:
   * flushes every memtable (the write-ahead log files holding the old values become obsolete and
   * RocksDB deletes them, since none are archived or recycled), then compacts the families that
   * hold key records down to the bottom level, so the table files with old versions of those
   * records are replaced and deleted. Runs beside apply (RocksDB allows it) on the scrubber's
   * thread, never in apply; checkpoints that still link the old table files are the caller's.
   */
  public void scrubDestroyedMaterial() {
    database.read(
        "the state store, to scrub destroyed material",
        db -> {
          db.flush();
          db.compactFully(Schema.KEYS);
          return null;
        });
  }

  /** How many request ids are remembered for deduplication. */
  public long requestRecordCount() {
    return requests.size();
  }

  /** The remembered outcome of a request id, if it is still retained. */
  public Optional<RequestRecord> request(String requestId) {
    return requests.lookup(requestId);
  }

  /**
   * Writes a consistent checkpoint of the store to {@code target} (which must not exist) after
   * flushing memtables, and returns the applied position it holds. Cheap: table files are hard
   * links. Must not run concurrently with {@link #apply}.
   */
  public AppliedPosition checkpoint(Path target) {
    AppliedPosition position = applied;
    Checkpoints.write(database, target);
    return position;
  }

  /** Read from a RocksDB snapshot of this store's database. */
  @Override
  public StateExport export() {
    return StateExport.open(database);
  }

  /** Reads the applied position stored in a checkpoint (or store) directory, opening it briefly. */
  public static AppliedPosition readPosition(Path directory) {
    try (KeyStateStore store = open(directory)) {
      return store.appliedPosition();
    }
  }

  /** Forces buffered writes to disk (used before the log is purged up to a snapshot). */
  public void flush() {
    try {
      database.flush();
    } catch (RocksDBException e) {
      throw new StorageException("cannot flush the state store", e);
    }
  }

  /** The directory the store lives in. */
  public Path directory() {
    return database.directory();
  }

  @Override
  public void close() {
    database.close();
  }
}
