package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Read access to the replicated state, for the command handlers (which must not see RocksDB). */
public interface StateReader {
  Optional<KeyRecord> key(String name);

  /** Every key, in name order. */
  Collection<KeyRecord> keys();

  /** Every registered node, in id order. */
  Collection<NodeRecord> nodes();

  Optional<BulkRotationRecord> bulkRotation(String id);

  /** The zone master key record of {@code zone}, if the zone was ever rotated. */
  Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone);

  /** A reader over plain maps (tests). */
  static StateReader of(Map<String, KeyRecord> keys, Map<String, NodeRecord> nodes) {
    return new StateReader() {
      @Override
      public Optional<KeyRecord> key(String name) {
        return Optional.ofNullable(keys.get(name));
      }

      @Override
      public Collection<KeyRecord> keys() {
        return new java.util.TreeMap<>(keys).values();
      }

      @Override
      public Collection<NodeRecord> nodes() {
        return new java.util.TreeMap<>(nodes).values();
      }

      @Override
      public Optional<BulkRotationRecord> bulkRotation(String id) {
        return Optional.empty();
      }

      @Override
      public Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone) {
        return Optional.empty();
      }
    };
  }

  /** A reader that knows keys only (tests of key transitions without nodes). */
  static StateReader ofKeys(java.util.function.Function<String, Optional<KeyRecord>> keys) {
    return new StateReader() {
      @Override
      public Optional<KeyRecord> key(String name) {
        return keys.apply(name);
      }

      @Override
      public Collection<KeyRecord> keys() {
        return List.of();
      }

      @Override
      public Collection<NodeRecord> nodes() {
        return List.of();
      }

      @Override
      public Optional<BulkRotationRecord> bulkRotation(String id) {
        return Optional.empty();
      }

      @Override
      public Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone) {
        return Optional.empty();
      }
    };
  }
}
