package io.keyrotor.storage.receipt;

import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
  public static void put(StateBatch batch, DestructionReceiptRecord receipt)
      throws RocksDBException {
    batch.put(
        Schema.DESTRUCTION_RECEIPTS,
        key(receipt.getKeyName(), receipt.getVersion()),
        receipt.toByteArray());
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

  /** UTF-8 key name, a zero byte (names never hold one), the version as 4 big-endian bytes. */
  static byte[] key(String name, int version) {
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(utf8.length + 5).put(utf8).put((byte) 0).putInt(version).array();
  }

  private static Optional<KeyVersionRecord> versionOf(KeyRecord key, int version) {
    return version >= 1 && version <= key.getVersionsCount()
        ? Optional.of(key.getVersions(version - 1))
        : Optional.empty();
  }
}
