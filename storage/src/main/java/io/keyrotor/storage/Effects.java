package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import java.util.List;
import java.util.Optional;

/**
 * What applying one command does: its result and the records it writes. Computed by {@link
 * Transitions} without touching storage; written by {@link KeyStateStore} in one batch.
 *
 * @param result the outcome returned to the caller and remembered for its request id
 * @param keyWrite the key record to store, if the command changed a key
 * @param nodeWrite the node record to store, if the command registered a node
 * @param action the command kind for the audit record (CREATE_KEY, ROTATE_KEY, ...)
 * @param auditDetail a short, key-material-free description for the audit record
 * @param moreKeyWrites further key records to store (batches), distinct from {@code keyWrite} and
 *     from each other
 * @param zoneMasterKeyWrite the zone master key record to store, if the command changed one
 * @param events lifecycle events the command caused, in order (log index and sequence are filled in
 *     by the store)
 * @param bulkRotationWrite the bulk rotation job record to store, if the command started one
 */
public record Effects(
    CommandResultRecord result,
    Optional<KeyRecord> keyWrite,
    Optional<NodeRecord> nodeWrite,
    String action,
    String auditDetail,
    List<KeyRecord> moreKeyWrites,
    Optional<ZoneMasterKeyRecord> zoneMasterKeyWrite,
    List<KeyEventRecord> events,
    Optional<BulkRotationRecord> bulkRotationWrite) {

  public Effects {
    moreKeyWrites = List.copyOf(moreKeyWrites);
    events = List.copyOf(events);
  }

  /** Effects that write at most one key and one node record. */
  public Effects(
      CommandResultRecord result,
      Optional<KeyRecord> keyWrite,
      Optional<NodeRecord> nodeWrite,
      String action,
      String auditDetail) {
    this(result, keyWrite, nodeWrite, action, auditDetail, List.of(), Optional.empty());
  }

  /** Effects with further key writes and a zone master key record, without events. */
  public Effects(
      CommandResultRecord result,
      Optional<KeyRecord> keyWrite,
      Optional<NodeRecord> nodeWrite,
      String action,
      String auditDetail,
      List<KeyRecord> moreKeyWrites,
      Optional<ZoneMasterKeyRecord> zoneMasterKeyWrite) {
    this(
        result,
        keyWrite,
        nodeWrite,
        action,
        auditDetail,
        moreKeyWrites,
        zoneMasterKeyWrite,
        List.of(),
        Optional.empty());
  }

  /** These effects with {@code more} events appended. */
  public Effects withEvents(List<KeyEventRecord> more) {
    if (more.isEmpty()) {
      return this;
    }
    List<KeyEventRecord> all = new java.util.ArrayList<>(events);
    all.addAll(more);
    return new Effects(
        result,
        keyWrite,
        nodeWrite,
        action,
        auditDetail,
        moreKeyWrites,
        zoneMasterKeyWrite,
        all,
        bulkRotationWrite);
  }

  /** Every key record these effects write, {@code keyWrite} first. */
  public List<KeyRecord> allKeyWrites() {
    List<KeyRecord> all = new java.util.ArrayList<>();
    keyWrite.ifPresent(all::add);
    all.addAll(moreKeyWrites);
    return all;
  }
}
