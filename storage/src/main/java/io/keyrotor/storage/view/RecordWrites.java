package io.keyrotor.storage.view;

import io.keyrotor.proto.internal.v1.AuthorizationPolicyRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The records one command writes: at most one record per key (so the digest removes each stored
 * value exactly once), and at most one node, bulk rotation, zone master key and policy record.
 *
 * @param keys the key records, in the order first written
 */
public record RecordWrites(
    Collection<KeyRecord> keys,
    Optional<NodeRecord> node,
    Optional<BulkRotationRecord> bulkRotation,
    Optional<ZoneMasterKeyRecord> zoneMasterKey,
    Optional<AuthorizationPolicyRecord> policy) {

  public RecordWrites {
    keys = List.copyOf(keys);
  }

  /** The writes of a command; of several records of one key, the last wins. */
  public static RecordWrites of(
      List<KeyRecord> keyWrites,
      Optional<NodeRecord> node,
      Optional<BulkRotationRecord> bulkRotation,
      Optional<ZoneMasterKeyRecord> zoneMasterKey,
      Optional<AuthorizationPolicyRecord> policy) {
    Map<String, KeyRecord> byName = new LinkedHashMap<>();
    keyWrites.forEach(k -> byName.put(k.getName(), k));
    return new RecordWrites(byName.values(), node, bulkRotation, zoneMasterKey, policy);
  }
}
