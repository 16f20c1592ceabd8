package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.function.Function;

/** Read access to the replicated state, for the command handlers (which must not see RocksDB). */
public interface StateReader {
  Optional<KeyRecord> key(String name);

  /** Every key, in name order (read a page at a time from a store: iterate, do not collect). */
  Iterable<KeyRecord> keys();

  /** Every registered node, in id order. */
  Collection<NodeRecord> nodes();

  Optional<BulkRotationRecord> bulkRotation(String id);

  /** How many keys there are (the limit of keys per cluster). */
  default long keyCount() {
    long count = 0;
    for (KeyRecord ignored : keys()) {
      count++;
    }
    return count;
  }

  /** How many keys of {@code zone} there are (the limit of keys per zone). */
  default long keyCountInZone(String zone) {
    long count = 0;
    for (KeyRecord key : keys()) {
      if (key.getZone().equals(zone)) {
        count++;
      }
    }
    return count;
  }

  /** The zone master key record of {@code zone}, if the zone was ever rotated. */
  Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone);

  /**
   * The destruction receipt of version {@code version} of key {@code name}, if it was destroyed.
   * States held in maps (tests of transitions) hold none.
   */
  default Optional<DestructionReceiptRecord> destructionReceipt(String name, int version) {
    return Optional.empty();
  }

  /**
   * The state held in these maps, read as they are at each call: keys by name, nodes by id, bulk
   * rotations by job id, zone master key records by zone.
   */
  static StateReader of(
      SortedMap<String, KeyRecord> keys,
      SortedMap<String, NodeRecord> nodes,
      Map<String, BulkRotationRecord> bulkRotations,
      Map<String, ZoneMasterKeyRecord> zoneMasterKeys) {
    return new MapStateReader(keys, nodes, bulkRotations, zoneMasterKeys);
  }

  /** A reader that knows keys only (tests of key transitions without nodes). */
  static StateReader ofKeys(Function<String, Optional<KeyRecord>> keys) {
    return of(Collections.emptySortedMap(), Collections.emptySortedMap(), Map.of(), Map.of())
        .withKeys(keys);
  }

  /**
   * This state with {@link #key} answered by {@code changed} first, and by this state where it
   * finds nothing: the overlay of what a batch changed so far. Everything else, {@link #keys}
   * included, is read from this state.
   */
  default StateReader withKeys(Function<String, Optional<KeyRecord>> changed) {
    return new KeyOverlay(this, changed);
  }
}
