package io.keyrotor.storage.audit;

import com.google.protobuf.ByteString;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.storage.StateDigest;
import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * The audit chain: every applied command appends an {@link AuditRecord} (action, key, version,
 * outcome, request id, proposer, leader time, a key-material-free detail) whose hash is SHA-256 of
 * the previous record's hash and this record without its hash. The head, the last record's hash, is
 * reported with the state digest, so replicas that agree on it agree on the whole history.
 *
 * <p>Records are stored in the {@code AUDIT} family by log index. The head moves in two steps, like
 * the rest of a command's effects: {@link #append} builds the record into the command's batch, and
 * {@link #publish} makes its hash the head once the batch is written.
 */
public final class AuditChain {
  /** The head before the first record: 32 zero bytes. */
  private static final byte[] GENESIS_HEAD = new byte[32];

  private final StateDatabase database;
  private volatile byte[] head;

  /**
   * @param storedHeadOrNull the head stored with the applied position, or null before any record
   */
  public AuditChain(StateDatabase database, byte[] storedHeadOrNull) {
    this.database = database;
    this.head = storedHeadOrNull == null ? GENESIS_HEAD : storedHeadOrNull;
  }

  /**
   * Builds the record of {@code command}, applied at {@code index} and effective time {@code
   * timeMillis} with {@code result}, puts it into {@code batch}, and returns it (its hash is the
   * next head).
   */
  public AuditRecord append(
      StateBatch batch,
      Command command,
      long index,
      long timeMillis,
      String action,
      CommandResultRecord result,
      String detail,
      AuditRecord extraFields)
      throws RocksDBException {
    return append(batch, command, index, 0, timeMillis, action, result, detail, extraFields);
  }

  /**
   * {@link #append} for command {@code batchPosition} of a batch entry: chained after the record of
   * the command before it, stored after it under {@link StoreKeys#auditKey(long, int)}.
   */
  public AuditRecord append(
      StateBatch batch,
      Command command,
      long index,
      int batchPosition,
      long timeMillis,
      String action,
      CommandResultRecord result,
      String detail,
      AuditRecord extraFields)
      throws RocksDBException {
    byte[] previous = head;
    AuditRecord unsigned =
        AuditRecord.newBuilder()
            .setLogIndex(index)
            .setTimeUnixMillis(timeMillis)
            .setRequestId(command.getRequestId())
            .setProposerNode(command.getOriginNode())
            .setAction(action)
            .setKeyName(result.getKeyName())
            .setVersion(result.getVersion())
            .setResultCode(result.getCode())
            .setResultReason(result.getReason())
            .setPreviousHash(ByteString.copyFrom(previous))
            .setDetail(detail)
            .setPrincipal(command.getPrincipal())
            .setBatchPosition(batchPosition)
            .mergeFrom(extraFields)
            .build();
    AuditRecord record =
        unsigned.toBuilder().setHash(ByteString.copyFrom(hashOf(unsigned))).build();
    batch.put(Schema.AUDIT, StoreKeys.auditKey(index, batchPosition), record.toByteArray());
    return record;
  }

  /** SHA-256 of {@code record}'s previous hash and its encoding without {@code hash}. */
  public static byte[] hashOf(AuditRecord record) {
    MessageDigest sha = StateDigest.sha256();
    sha.update(record.getPreviousHash().toByteArray());
    sha.update(record.toBuilder().clearHash().build().toByteArray());
    return sha.digest();
  }

  /**
   * Checks the stored chain against {@code storedHead} from the last checkpoint on: finds the
   * newest record holding a checkpoint (walking back from the end, so the work is what was applied
   * since the last checkpoint, not the whole history), then, from the record that checkpoint signs
   * to the last record, recomputes every hash and follows every link, and compares the last hash
   * with the stored head. Without a checkpoint it starts at the first record, which must link to
   * the genesis head. Signatures are checked by offline verifiers, which hold the trusted keys.
   *
   * @return empty when intact, otherwise what is wrong, in one line
   */
  public Optional<String> verifyFromLastCheckpoint() {
    return database.read(
        "the audit log",
        db -> {
          long startIndex = 0;
          byte[] expectedStartHash = null;
          try (RocksIterator it = db.newIterator(Schema.AUDIT)) {
            it.seekToLast();
            if (!it.isValid()) {
              it.status();
              return Arrays.equals(head, GENESIS_HEAD)
                  ? Optional.<String>empty()
                  : Optional.of("the audit chain is empty but the stored head is " + headHex());
            }
            for (; it.isValid(); it.prev()) {
              AuditRecord record = AuditRecord.parseFrom(it.value());
              if (record.hasCheckpoint()) {
                startIndex = record.getCheckpoint().getLogIndex();
                expectedStartHash = record.getCheckpoint().getHead().toByteArray();
                break;
              }
            }
            it.status();
          }
          byte[] previous = expectedStartHash == null ? GENESIS_HEAD : null;
          try (RocksIterator it = db.newIterator(Schema.AUDIT)) {
            boolean first = true;
            for (it.seek(StoreKeys.auditKey(startIndex)); it.isValid(); it.next()) {
              AuditRecord record = AuditRecord.parseFrom(it.value());
              long index = record.getLogIndex();
              if (first && expectedStartHash != null && index != startIndex) {
                return Optional.of(
                    "the audit record at index "
                        + startIndex
                        + ", signed by the last checkpoint, is missing");
              }
              if (previous != null
                  && !Arrays.equals(record.getPreviousHash().toByteArray(), previous)) {
                return Optional.of(
                    "the audit record at index "
                        + index
                        + " does not link to the record before it");
              }
              byte[] hash = hashOf(record);
              if (!Arrays.equals(hash, record.getHash().toByteArray())) {
                return Optional.of(
                    "the audit record at index " + index + " was changed after it was written");
              }
              if (first && expectedStartHash != null && !Arrays.equals(hash, expectedStartHash)) {
                return Optional.of(
                    "the audit record at index "
                        + index
                        + " is not the one the last checkpoint signed");
              }
              first = false;
              previous = hash;
            }
            it.status();
          }
          if (previous == null || !Arrays.equals(previous, head)) {
            return Optional.of(
                "the audit chain ends at a head other than the stored one (" + headHex() + ")");
          }
          return Optional.<String>empty();
        });
  }

  /** Makes {@code nextHead}, the hash of the record last appended, the head once it is written. */
  public void publish(byte[] nextHead) {
    head = nextHead;
  }

  /** The head: the hash of the last record, or 32 zero bytes before the first. */
  public byte[] head() {
    return head;
  }

  /** The head, hex. */
  public String headHex() {
    return HexFormat.of().formatHex(head);
  }

  /** The last record written, if any. Any thread. */
  public Optional<AuditRecord> last() {
    return database.read(
        "the audit log",
        db -> {
          try (RocksIterator it = db.newIterator(Schema.AUDIT)) {
            it.seekToLast();
            if (!it.isValid()) {
              it.status();
              return Optional.<AuditRecord>empty();
            }
            return Optional.of(AuditRecord.parseFrom(it.value()));
          }
        });
  }

  /**
   * The index of the first record at or after {@code timeMillis}: a binary search over indexes,
   * since effective times never decrease along the log. Any thread.
   */
  public Optional<Long> firstIndexAtOrAfter(long timeMillis) {
    Optional<AuditRecord> last = last();
    if (last.isEmpty() || last.get().getTimeUnixMillis() < timeMillis) {
      return Optional.empty();
    }
    long best = last.get().getLogIndex();
    long low = 0;
    long high = best - 1;
    // The answer is best, or a record in [low, high].
    while (low <= high) {
      long middle = low + (high - low) / 2;
      AuditRecord found = read(middle, 1).get(0);
      if (found.getLogIndex() > high) {
        high = middle - 1; // no record in [middle, high]
      } else if (found.getTimeUnixMillis() >= timeMillis) {
        best = found.getLogIndex();
        high = middle - 1; // no record in [middle, found)
      } else {
        low = found.getLogIndex() + 1;
      }
    }
    return Optional.of(best);
  }

  /** Records from {@code fromIndex} on, at most {@code limit}. Any thread. */
  public List<AuditRecord> read(long fromIndex, int limit) {
    return database.read(
        "the audit log",
        db -> {
          List<AuditRecord> out = new ArrayList<>();
          try (RocksIterator it = db.newIterator(Schema.AUDIT)) {
            for (it.seek(StoreKeys.auditKey(Math.max(0, fromIndex)));
                it.isValid() && out.size() < limit;
                it.next()) {
              out.add(AuditRecord.parseFrom(it.value()));
            }
            it.status();
          }
          return out;
        });
  }
}
