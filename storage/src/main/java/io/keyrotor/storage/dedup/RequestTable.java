package io.keyrotor.storage.dedup;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.RequestRecord;
import io.keyrotor.storage.Limits;
import io.keyrotor.storage.StorageException;
import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * The remembered outcome of every request id applied in the last {@link #RETENTION}, so a retried
 * write applies once: {@code REQUESTS} maps the id to its {@link RequestRecord}, and {@code
 * REQUEST_EXPIRY} orders the ids by command time for eviction.
 *
 * <p>Eviction is driven by command time, never a clock, so every replica evicts the same ids at the
 * same entry; each command evicts at most {@link #MAX_EVICTIONS_PER_COMMAND}, so a command after a
 * long quiet period stays cheap and the backlog drains over the following commands.
 *
 * <p>The table is bounded by count too: once it holds more than {@code maxRecords} ids, the oldest
 * are forgotten first, before their time is up (each command adds one id and may evict up to {@link
 * #MAX_EVICTIONS_PER_COMMAND}, so the count never grows past the bound by more than a command's
 * backlog). The count is the number of entries of {@code REQUESTS}, the same on every replica at
 * the same index: counted from the data when the store opens, then moved by exactly what each
 * command records and evicts. A retry of a request whose id was forgotten early is applied again,
 * as one arriving after its 24 hours would be.
 */
public final class RequestTable {
  /** How long a request id is remembered after its command, for retried writes. */
  public static final Duration RETENTION = Duration.ofHours(24);

  /** Most request ids one command evicts. */
  public static final int MAX_EVICTIONS_PER_COMMAND = 16;

  private final StateDatabase database;
  private final long maxRecords;

  /**
   * Where eviction resumes: the time of the last expiry key deleted, in memory (a restart rescans).
   * Everything before it is deleted, so starting there evicts what starting at the first would.
   */
  private byte[] evictionCursor;

  /** Entries of {@code REQUESTS}, with those of the batch being built; counted by {@link #load}. */
  private long count;

  /** A table bounded as every replica bounds it ({@link Limits#CEILINGS}). */
  public RequestTable(StateDatabase database) {
    this(database, Limits.CEILINGS.requestRecords());
  }

  /**
   * @param maxRecords most request ids remembered; the oldest beyond it are forgotten first
   */
  public RequestTable(StateDatabase database, long maxRecords) {
    this.database = database;
    this.maxRecords = maxRecords;
  }

  /**
   * Reads the count of remembered ids, stored with every command's batch ({@link #stageCount}); a
   * store written before the count was stored is counted once.
   */
  public void load() throws RocksDBException {
    evictionCursor = null;
    byte[] stored = database.get(Schema.META, Schema.MetaKey.REQUEST_COUNT);
    if (stored != null) {
      count = StoreKeys.readLong(stored);
      return;
    }
    long entries = 0;
    try (RocksIterator it = database.newIterator(Schema.REQUESTS)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        entries++;
      }
      it.status();
    }
    count = entries;
    evictionCursor = null;
  }

  /** Puts the count, as the batch leaves it, into {@code batch}. */
  public void stageCount(StateBatch batch) throws RocksDBException {
    batch.put(Schema.META, Schema.MetaKey.REQUEST_COUNT, StoreKeys.longBytes(count));
  }

  /** How many request ids are remembered, as of the last applied command. */
  public long size() {
    return count;
  }

  /** The remembered outcome of {@code requestId}, if it is still retained. Any thread. */
  public Optional<RequestRecord> lookup(String requestId) {
    return database.read(
        "request record",
        db -> {
          byte[] value = db.get(Schema.REQUESTS, StoreKeys.utf8(requestId));
          return value == null ? Optional.empty() : Optional.of(RequestRecord.parseFrom(value));
        });
  }

  /**
   * The outcome to answer for an entry at {@code index} that was applied before (a replay after a
   * restart): the remembered outcome of its request id if there is one, else OK, "already applied".
   */
  public CommandResultRecord replayedOutcome(String requestId, long index) {
    Optional<RequestRecord> remembered = requestId.isEmpty() ? Optional.empty() : lookup(requestId);
    if (remembered.isPresent()) {
      return remembered.get().getResult();
    }
    return CommandResultRecord.newBuilder()
        .setCode(Code.OK_VALUE)
        .setAppliedIndex(index)
        .setMessage("already applied")
        .build();
  }

  /** Remembers the outcome of {@code requestId}, applied at command time {@code timeMillis}. */
  public void record(
      StateBatch batch, String requestId, CommandResultRecord result, long timeMillis)
      throws RocksDBException {
    RequestRecord record =
        RequestRecord.newBuilder().setResult(result).setTimeUnixMillis(timeMillis).build();
    batch.put(Schema.REQUESTS, StoreKeys.utf8(requestId), record.toByteArray());
    count++;
    batch.put(
        Schema.REQUEST_EXPIRY, StoreKeys.requestExpiryKey(timeMillis, requestId), new byte[0]);
  }

  /**
   * Forgets up to {@link #MAX_EVICTIONS_PER_COMMAND} request ids, oldest first, except {@code
   * currentRequestId}: those whose command time is more than {@link #RETENTION} before {@code
   * timeMillis}, and, while the table holds more than its bound, the oldest of the rest. An id used
   * again later keeps its newer record.
   */
  public void evictExpired(StateBatch batch, long timeMillis, String currentRequestId)
      throws RocksDBException {
    long cutoff = timeMillis - RETENTION.toMillis();
    if (cutoff <= 0 && count <= maxRecords) {
      return;
    }
    try (RocksIterator it = database.newIterator(Schema.REQUEST_EXPIRY)) {
      if (evictionCursor != null) {
        it.seek(evictionCursor);
      } else {
        it.seekToFirst();
      }
      int evicted = 0;
      for (; it.isValid() && evicted < MAX_EVICTIONS_PER_COMMAND; it.next()) {
        byte[] expiryKey = it.key();
        long recordTime = StoreKeys.requestExpiryTime(expiryKey);
        if (recordTime >= cutoff && count <= maxRecords) {
          break; // neither expired nor over the bound: nothing older is left to forget
        }
        byte[] id = StoreKeys.requestExpiryId(expiryKey);
        batch.delete(Schema.REQUEST_EXPIRY, expiryKey, null);
        // Resume at this time, not after this id: an id recorded later at the same time may sort
        // before it, and a replica that restarted (and rescans) must evict exactly what this does.
        evictionCursor = StoreKeys.longBytes(recordTime);
        evicted++;
        if (new String(id, StandardCharsets.UTF_8).equals(currentRequestId)) {
          continue;
        }
        byte[] stored = database.get(Schema.REQUESTS, id);
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
        batch.delete(Schema.REQUESTS, id, stored);
        count--;
      }
      it.status();
    }
  }
}
