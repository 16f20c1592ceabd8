package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import java.util.Collection;
import java.util.Optional;
import java.util.function.Function;

/** A state with some keys read from an overlay first ({@link StateReader#withKeys}). */
final class KeyOverlay implements StateReader {
  private final StateReader state;
  private final Function<String, Optional<KeyRecord>> changed;

  KeyOverlay(StateReader state, Function<String, Optional<KeyRecord>> changed) {
    this.state = state;
    this.changed = changed;
  }

  @Override
  public Optional<KeyRecord> key(String name) {
    Optional<KeyRecord> key = changed.apply(name);
    return key.isPresent() ? key : state.key(name);
  }

  @Override
  public Iterable<KeyRecord> keys() {
    return state.keys();
  }

  @Override
  public long keyCount() {
    return state.keyCount();
  }

  @Override
  public long keyCountInZone(String zone) {
    return state.keyCountInZone(zone);
  }

  @Override
  public Collection<NodeRecord> nodes() {
    return state.nodes();
  }

  @Override
  public Optional<BulkRotationRecord> bulkRotation(String id) {
    return state.bulkRotation(id);
  }

  @Override
  public Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone) {
    return state.zoneMasterKey(zone);
  }

  @Override
  public Optional<DestructionReceiptRecord> destructionReceipt(String name, int version) {
    return state.destructionReceipt(name, version);
  }
}
