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
import java.util.HexFormat;
import java.util.List;
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
      String detail)
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
            .build();
    MessageDigest sha = StateDigest.sha256();
    sha.update(previous);
    sha.update(unsigned.toByteArray());
    AuditRecord record = unsigned.toBuilder().setHash(ByteString.copyFrom(sha.digest())).build();
    batch.put(Schema.AUDIT, StoreKeys.auditKey(index), record.toByteArray());
    return record;
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
