package io.keyrotor.storage.audit;

import com.google.protobuf.ByteString;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.TrimHistory;
import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Retention ({@code TrimHistory}): what one trim removes, found from the state as applied so far
 * and the cut the command carries (no clock), so every replica removes the same records.
 *
 * <p>The audit chain is cut only where a recorded checkpoint signs: at index L, the index the
 * newest checkpoint at or before the cut signs, so the first record left is the one that
 * checkpoint's signed head is the hash of, and an export from there verifies (its first link is the
 * signed head, every later link is checked as before). Without such a checkpoint the chain is not
 * cut. The event stream is cut at the same index (at most {@value #MAX_EVENTS} events per trim; the
 * next trim goes on). Bulk rotation jobs that started before the cut time, and all but the newest
 * {@code keep_bulk_rotations}, are removed.
 */
public final class HistoryTrim {
  /** Most events one trim removes (each has an index entry by key to remove with it). */
  public static final int MAX_EVENTS = 10_000;

  /**
   * What one trim removes.
   *
   * @param auditBefore audit records before this index go (0: none)
   * @param eventsBefore the event key before which events go (null: none)
   * @param eventKeys the by-key index entries of those events
   * @param bulkRotations the bulk rotation jobs removed, as stored
   */
  public record Cut(
      long auditBefore,
      ByteString eventsBefore,
      List<byte[]> eventKeys,
      List<BulkRotationRecord> bulkRotations) {
    /** The audit record's detail: what was cut. */
    public String detail() {
      return "audit before index "
          + auditBefore
          + ", "
          + eventKeys.size()
          + " events, "
          + bulkRotations.size()
          + " bulk rotation jobs";
    }
  }

  private HistoryTrim() {}

  /** The cut {@code trim} makes in the state of {@code database} (written up to this entry). */
  public static Cut plan(
      StateDatabase database,
      AuditChain chain,
      TrimHistory trim,
      Map<String, BulkRotationRecord> bulkRotations) {
    long target = target(chain, trim);
    long auditBefore = target > 0 ? signedCutAtOrBefore(database, target) : 0;
    List<byte[]> eventKeys = new ArrayList<>();
    ByteString eventsBefore = null;
    if (auditBefore > 0) {
      eventsBefore =
          ByteString.copyFrom(
              collectEvents(database, StoreKeys.eventKey(auditBefore, 0), eventKeys));
    }
    return new Cut(
        auditBefore, eventsBefore, eventKeys, bulkRotationsToRemove(trim, bulkRotations));
  }

  /** Puts the removals of {@code cut} into {@code batch} (the bulk rotation jobs excepted). */
  public static void stage(StateBatch batch, Cut cut) throws RocksDBException {
    if (cut.auditBefore() > 0) {
      batch.deleteRange(Schema.AUDIT, StoreKeys.auditKey(0), StoreKeys.auditKey(cut.auditBefore()));
    }
    if (cut.eventsBefore() != null) {
      batch.deleteRange(Schema.EVENTS, StoreKeys.eventKey(0, 0), cut.eventsBefore().toByteArray());
      for (byte[] key : cut.eventKeys()) {
        batch.delete(Schema.KEY_EVENTS, key, null);
      }
    }
  }

  /** The highest index the trim may cut before: the larger of the age cut and the size cut. */
  private static long target(AuditChain chain, TrimHistory trim) {
    long target = 0;
    var last = chain.last();
    if (last.isEmpty()) {
      return 0;
    }
    long lastIndex = last.get().getLogIndex();
    if (trim.getKeepIndexes() > 0 && lastIndex > trim.getKeepIndexes()) {
      target = lastIndex - trim.getKeepIndexes();
    }
    if (trim.getCutTimeUnixMillis() > 0) {
      long ageCut = chain.firstIndexAtOrAfter(trim.getCutTimeUnixMillis()).orElse(lastIndex);
      target = Math.max(target, ageCut);
    }
    return target;
  }

  /**
   * The index the newest checkpoint signs among checkpoints that sign an index at or before {@code
   * target} and are themselves recorded at or before the chain's end; 0 when there is none. Walks
   * back from the end: the records after the target, then to the first checkpoint found.
   */
  private static long signedCutAtOrBefore(StateDatabase database, long target) {
    return database.read(
        "the audit log",
        db -> {
          long best = 0;
          try (RocksIterator it = db.newIterator(Schema.AUDIT)) {
            for (it.seekToLast(); it.isValid(); it.prev()) {
              AuditRecord record = AuditRecord.parseFrom(it.value());
              if (record.hasCheckpoint()) {
                long signed = record.getCheckpoint().getLogIndex();
                if (signed <= target) {
                  best = signed;
                  break;
                }
              }
            }
            it.status();
          }
          if (best == 0) {
            return 0L;
          }
          // The record the checkpoint signs must be there, or the chain was already cut past it.
          try (RocksIterator it = db.newIterator(Schema.AUDIT)) {
            it.seek(StoreKeys.auditKey(best));
            if (!it.isValid() || AuditRecord.parseFrom(it.value()).getLogIndex() != best) {
              it.status();
              return 0L;
            }
          }
          return best;
        });
  }

  /**
   * Adds the by-key index entries of the events before {@code before} to {@code keys}, at most
   * {@value #MAX_EVENTS}; returns where the removal ends (the first event kept past the limit).
   */
  private static byte[] collectEvents(StateDatabase database, byte[] before, List<byte[]> keys) {
    return database.read(
        "the event stream",
        db -> {
          try (RocksIterator it = db.newIterator(Schema.EVENTS)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
              byte[] key = it.key();
              if (java.util.Arrays.compareUnsigned(key, before) >= 0) {
                break;
              }
              if (keys.size() == MAX_EVENTS) {
                return key;
              }
              KeyEventRecord event = KeyEventRecord.parseFrom(it.value());
              keys.add(
                  StoreKeys.keyEventKey(
                      event.getKeyName(), event.getLogIndex(), event.getSequence()));
            }
            it.status();
          }
          return before;
        });
  }

  private static List<BulkRotationRecord> bulkRotationsToRemove(
      TrimHistory trim, Map<String, BulkRotationRecord> jobs) {
    List<BulkRotationRecord> newestFirst = new ArrayList<>(jobs.values());
    newestFirst.sort(
        Comparator.comparingLong(BulkRotationRecord::getStartTimeUnixMillis)
            .reversed()
            .thenComparing(BulkRotationRecord::getId));
    List<BulkRotationRecord> out = new ArrayList<>();
    for (int i = 0; i < newestFirst.size(); i++) {
      BulkRotationRecord job = newestFirst.get(i);
      boolean tooMany = trim.getKeepBulkRotations() > 0 && i >= trim.getKeepBulkRotations();
      boolean tooOld =
          trim.getCutTimeUnixMillis() > 0
              && job.getStartTimeUnixMillis() < trim.getCutTimeUnixMillis();
      if (tooMany || tooOld) {
        out.add(job);
      }
    }
    return out;
  }
}
