package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.CommandResultRecord;
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
 * @param moreKeyWrites further key records to store (a zone master key rewrap batch), distinct from
 *     {@code keyWrite} and from each other
 * @param zoneMasterKeyWrite the zone master key record to store, if the command changed one
 */
public record Effects(
    CommandResultRecord result,
    Optional<KeyRecord> keyWrite,
    Optional<NodeRecord> nodeWrite,
    String action,
    String auditDetail,
    List<KeyRecord> moreKeyWrites,
    Optional<ZoneMasterKeyRecord> zoneMasterKeyWrite) {

  public Effects {
    moreKeyWrites = List.copyOf(moreKeyWrites);
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
}
