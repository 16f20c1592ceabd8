package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;

/** The state held in maps, read as they are at each call ({@link StateReader#of}). */
final class MapStateReader implements StateReader {
  private final SortedMap<String, KeyRecord> keys;
  private final SortedMap<String, NodeRecord> nodes;
  private final Map<String, BulkRotationRecord> bulkRotations;
  private final Map<String, ZoneMasterKeyRecord> zoneMasterKeys;

  MapStateReader(
      SortedMap<String, KeyRecord> keys,
      SortedMap<String, NodeRecord> nodes,
      Map<String, BulkRotationRecord> bulkRotations,
      Map<String, ZoneMasterKeyRecord> zoneMasterKeys) {
    this.keys = keys;
    this.nodes = nodes;
    this.bulkRotations = bulkRotations;
    this.zoneMasterKeys = zoneMasterKeys;
  }

  @Override
  public Optional<KeyRecord> key(String name) {
    return Optional.ofNullable(keys.get(name));
  }

  @Override
  public Collection<KeyRecord> keys() {
    return Collections.unmodifiableCollection(keys.values());
  }

  @Override
  public Collection<NodeRecord> nodes() {
    return Collections.unmodifiableCollection(nodes.values());
  }

  @Override
  public Optional<BulkRotationRecord> bulkRotation(String id) {
    return Optional.ofNullable(bulkRotations.get(id));
  }

  @Override
  public Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone) {
    return Optional.ofNullable(zoneMasterKeys.get(zone));
  }
}
