package io.keyrotor.storage.receipt;

import com.google.protobuf.Timestamp;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.SignDestructionReceipt;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.StorageException;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/**
 * Destruction receipts: when a DestroyVersion moves a version to DESTROYED, a {@link
 * DestructionReceiptRecord} goes into the {@code DESTRUCTION_RECEIPTS} family in the same batch as
 * the command's audit record, so the receipt names the audit record (log index and hash) that
 * places the destruction in the chain. Everything in it comes from the command, the records before
 * it and the audit record, so every replica writes the same receipt.
 */
public final class DestructionReceipts {
  private DestructionReceipts() {}

  /**
   * The receipt of {@code command} when it destroyed a version: {@code before} is the key as it was
   * stored before the command, {@code written} the key records the command writes. Empty when the
   * command is no DestroyVersion or destroyed nothing (refused, or destroyed already).
   */
  public static Optional<DestructionReceiptRecord> of(
      Command command,
      Optional<KeyRecord> before,
      List<KeyRecord> written,
      long index,
      long timeMillis,
      AuditRecord audit) {
    if (!command.hasDestroyVersion() || before.isEmpty()) {
      return Optional.empty();
    }
    String name = command.getDestroyVersion().getName();
    int version = command.getDestroyVersion().getVersion();
    Optional<KeyVersionRecord> previous = versionOf(before.get(), version);
    if (previous.isEmpty()
        || previous.get().getStatus() == VersionStatus.VERSION_STATUS_DESTROYED) {
      return Optional.empty();
    }
    boolean destroyedNow =
        written.stream()
            .filter(k -> k.getName().equals(name))
            .map(k -> versionOf(k, version))
            .flatMap(Optional::stream)
            .anyMatch(v -> v.getStatus() == VersionStatus.VERSION_STATUS_DESTROYED);
    if (!destroyedNow) {
      return Optional.empty();
    }
    return Optional.of(
        DestructionReceiptRecord.newBuilder()
            .setKeyName(name)
            .setVersion(version)
            .setDestroyedTimeUnixMillis(timeMillis)
            .setScheduledDestroyTimeUnixMillis(previous.get().getDestroyTimeUnixMillis())
            .setScheduledBy(previous.get().getDestroyScheduledBy())
            .setLogIndex(index)
            .setAuditRecordHash(audit.getHash())
            .setZone(before.get().getZone())
            .build());
  }

  /** Puts {@code receipt} into {@code batch} (a version is destroyed once, so it is new). */
  public static void put(StateBatch batch, DestructionReceiptRecord receipt) {
    try {
      batch.put(
          Schema.DESTRUCTION_RECEIPTS,
          key(receipt.getKeyName(), receipt.getVersion()),
          receipt.toByteArray());
    } catch (RocksDBException e) {
      throw new StorageException("cannot stage the destruction receipt", e);
    }
  }

  /**
   * Replaces the stored receipt {@code stored} with {@code updated} (its signed form): the digest
   * loses the stored one as it gains the new one.
   */
  public static void replace(
      StateBatch batch, DestructionReceiptRecord stored, DestructionReceiptRecord updated) {
    try {
      batch.put(
          Schema.DESTRUCTION_RECEIPTS,
          key(updated.getKeyName(), updated.getVersion()),
          updated.toByteArray(),
          stored.toByteArray());
    } catch (RocksDBException e) {
      throw new StorageException("cannot stage the destruction receipt's signature", e);
    }
  }

  /** The receipt of version {@code version} of key {@code name}, if it was destroyed. */
  public static Optional<DestructionReceiptRecord> read(
      StateDatabase database, String name, int version) {
    return database.read(
        "the destruction receipt of " + name + " version " + version,
        db -> {
          byte[] stored = db.get(Schema.DESTRUCTION_RECEIPTS, key(name, version));
          return stored == null
              ? Optional.empty()
              : Optional.of(DestructionReceiptRecord.parseFrom(stored));
        });
  }

  /**
   * The receipts that are not signed yet, in key name and version order, at most {@code limit}:
   * what the leader signs next. Reads the whole family (one small record per destroyed version).
   */
  public static List<DestructionReceiptRecord> unsigned(StateDatabase database, int limit) {
    return database.read(
        "the unsigned destruction receipts",
        db -> {
          List<DestructionReceiptRecord> out = new java.util.ArrayList<>();
          try (org.rocksdb.RocksIterator it = db.newIterator(Schema.DESTRUCTION_RECEIPTS)) {
            for (it.seekToFirst(); it.isValid() && out.size() < limit; it.next()) {
              DestructionReceiptRecord receipt = DestructionReceiptRecord.parseFrom(it.value());
              if (!receipt.hasSignature()) {
                out.add(receipt);
              }
            }
          }
          return out;
        });
  }

  /**
   * Stages the signature {@code sign} carries into the stored receipt it names (a receipt that is
   * not there is left alone: apply refused the command before).
   */
  public static void stageSignature(
      StateBatch batch, StateDatabase database, SignDestructionReceipt sign, long index) {
    Optional<DestructionReceiptRecord> stored = read(database, sign.getName(), sign.getVersion());
    if (stored.isPresent()) {
      replace(batch, stored.get(), withSignature(stored.get(), sign, index));
    }
  }

  /**
   * {@code receipt} with the signature {@code sign} carries, recorded at log index {@code index}.
   */
  public static DestructionReceiptRecord withSignature(
      DestructionReceiptRecord receipt, SignDestructionReceipt sign, long index) {
    return receipt.toBuilder()
        .setSignature(sign.getSignature().toBuilder().setRecordedIndex(index))
        .build();
  }

  /** The receipt as the API shows it (and as a signed receipt's audit record holds it). */
  public static DestructionReceipt toApi(DestructionReceiptRecord record) {
    DestructionReceipt.Builder receipt =
        DestructionReceipt.newBuilder()
            .setName(record.getKeyName())
            .setVersion(record.getVersion())
            .setDestroyedTime(timestamp(record.getDestroyedTimeUnixMillis()))
            .setScheduledDestroyTime(timestamp(record.getScheduledDestroyTimeUnixMillis()))
            .setScheduledBy(record.getScheduledBy())
            .setLogIndex(record.getLogIndex())
            .setAuditRecordHash(HexFormat.of().formatHex(record.getAuditRecordHash().toByteArray()))
            .setZone(record.getZone());
    if (record.hasSignature()) {
      receipt.setSignature(record.getSignature());
    }
    return receipt.build();
  }

  /** UTF-8 key name, a zero byte (names never hold one), the version as 4 big-endian bytes. */
  static byte[] key(String name, int version) {
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(utf8.length + 5).put(utf8).put((byte) 0).putInt(version).array();
  }

  private static Timestamp timestamp(long millis) {
    return Timestamp.newBuilder()
        .setSeconds(Math.floorDiv(millis, 1000))
        .setNanos(Math.floorMod(millis, 1000) * 1_000_000)
        .build();
  }

  private static Optional<KeyVersionRecord> versionOf(KeyRecord key, int version) {
    return version >= 1 && version <= key.getVersionsCount()
        ? Optional.of(key.getVersions(version - 1))
        : Optional.empty();
  }
}
