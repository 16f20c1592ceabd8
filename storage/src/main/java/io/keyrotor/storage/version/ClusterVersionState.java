package io.keyrotor.storage.version;

import com.google.protobuf.InvalidProtocolBufferException;
import io.keyrotor.proto.internal.v1.ClusterVersionRecord;
import io.keyrotor.storage.StorageException;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.util.Optional;
import org.rocksdb.RocksDBException;

/**
 * The cluster's active version as this store applied it: read once at open, staged into a command's
 * batch, shown to readers once the batch is written (apply thread only, like the other record
 * views).
 */
public final class ClusterVersionState {
  private final StateDatabase database;
  private volatile Optional<ClusterVersionRecord> record = Optional.empty();

  public ClusterVersionState(StateDatabase database) {
    this.database = database;
  }

  /** Reads the stored record, if the version was ever raised. */
  public void load() throws RocksDBException {
    byte[] value = database.get(Schema.META, Schema.MetaKey.CLUSTER_VERSION);
    try {
      record =
          value == null ? Optional.empty() : Optional.of(ClusterVersionRecord.parseFrom(value));
    } catch (InvalidProtocolBufferException e) {
      throw new StorageException("the stored cluster version cannot be decoded", e);
    }
  }

  /** Puts {@code write} into {@code batch}, if the command set a version. */
  public void stage(StateBatch batch, Optional<ClusterVersionRecord> write)
      throws RocksDBException {
    if (write.isPresent()) {
      batch.put(Schema.META, Schema.MetaKey.CLUSTER_VERSION, write.get().toByteArray());
    }
  }

  /** Shows {@code write}, staged by {@link #stage}, once its batch is written. */
  public void publish(Optional<ClusterVersionRecord> write) {
    if (write.isPresent()) {
      record = write;
    }
  }

  /** The record of the last raise, if any. */
  public Optional<ClusterVersionRecord> record() {
    return record;
  }

  /** The active version ({@link ClusterVersion#BASE} before the first raise). */
  public int active() {
    return ClusterVersion.of(record);
  }
}
