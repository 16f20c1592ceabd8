package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.KeyRecord;
import java.util.NavigableMap;
import java.util.TreeMap;

/** Every key of a (small, test) state, collected by name: what tests compare. */
public final class AllKeys {
  private AllKeys() {}

  /** The keys of {@code state} by name. */
  public static NavigableMap<String, KeyRecord> of(StateView state) {
    NavigableMap<String, KeyRecord> keys = new TreeMap<>();
    state.allKeys().forEach(key -> keys.put(key.getName(), key));
    return keys;
  }
}
