package io.keyrotor.storage.view;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import io.keyrotor.proto.internal.v1.AuthorizationPolicyRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.StateDigest;
import io.keyrotor.storage.StateReader;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.util.Collections;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * The records of the replicated state held in memory, for reads on any thread and for the
 * transitions: keys, the keys whose newest version awaits validation (derived), nodes, zone master
 * key records, bulk rotations and the authorisation policy (kept compiled, {@link AccessPolicy}).
 *
 * <p>Written by the apply thread only, in two steps: {@link #stage} puts a command's records into
 * its batch (and moves the digest by the values they replace), then, once the batch is written,
 * {@link #apply} shows them to readers. Readers see each record replaced atomically.
 */
public final class RecordViews {
  private final ConcurrentSkipListMap<String, KeyRecord> keys = new ConcurrentSkipListMap<>();
  // Keys whose newest version waits for validation: what the version validators look at, so their
  // cost follows the rotations in progress, not the number of keys. Derived, in memory only.
  private final ConcurrentSkipListSet<String> awaitingValidation = new ConcurrentSkipListSet<>();
  // Keys per zone, for the limit of keys per zone (a key never moves zone and is never removed).
  private final ConcurrentHashMap<String, Long> keysPerZone = new ConcurrentHashMap<>();
  private final AtomicLong keyTotal = new AtomicLong();
  private final ConcurrentSkipListMap<String, NodeRecord> nodes = new ConcurrentSkipListMap<>();
  private final ConcurrentSkipListMap<String, ZoneMasterKeyRecord> zoneMasterKeys =
      new ConcurrentSkipListMap<>();
  private final ConcurrentSkipListMap<String, BulkRotationRecord> bulkRotations =
      new ConcurrentSkipListMap<>();
  private volatile AuthorizationPolicyRecord policyRecord;
  private volatile AccessPolicy policy = AccessPolicy.NONE;

  /** The key of the one record of the ACCESS_POLICY family. */
  private static final String POLICY_KEY = "policy";

  /**
   * Loads every digested column family of {@code database}: the records into the views, and every
   * entry into a digest recomputed from the data, which this returns (for comparison with the
   * stored one).
   */
  public StateDigest load(StateDatabase database)
      throws RocksDBException, InvalidProtocolBufferException {
    StateDigest recomputed = StateDigest.empty();
    for (Schema family : Schema.all()) {
      if (!family.inDigest()) {
        continue;
      }
      try (RocksIterator it = database.newIterator(family)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] value = it.value();
          recomputed.add(family, it.key(), value);
          switch (family) {
            case KEYS -> putKey(KeyRecord.parseFrom(value));
            case NODES -> putNode(NodeRecord.parseFrom(value));
            case BULK_ROTATIONS -> putBulkRotation(BulkRotationRecord.parseFrom(value));
            case ZONE_MASTER_KEYS -> putZoneMasterKey(ZoneMasterKeyRecord.parseFrom(value));
            case ACCESS_POLICY -> putPolicy(AuthorizationPolicyRecord.parseFrom(value));
            default -> {} // REQUESTS: in the digest, not in memory
          }
        }
        it.status();
      }
    }
    return recomputed;
  }

  /** Puts {@code writes} into {@code batch}, each record replacing its current value. */
  public void stage(StateBatch batch, RecordWrites writes) throws RocksDBException {
    for (KeyRecord key : writes.keys()) {
      put(batch, Schema.KEYS, key.getName(), key, keys.get(key.getName()));
    }
    if (writes.node().isPresent()) {
      NodeRecord node = writes.node().get();
      NodeRecord previous = nodes.get(node.getId());
      if (!node.getRemoved()) {
        put(batch, Schema.NODES, node.getId(), node, previous);
      } else if (previous != null) {
        batch.delete(Schema.NODES, StoreKeys.utf8(node.getId()), previous.toByteArray());
      }
    }
    if (writes.bulkRotation().isPresent()) {
      BulkRotationRecord job = writes.bulkRotation().get();
      put(batch, Schema.BULK_ROTATIONS, job.getId(), job, bulkRotations.get(job.getId()));
    }
    if (writes.zoneMasterKey().isPresent()) {
      ZoneMasterKeyRecord zone = writes.zoneMasterKey().get();
      put(batch, Schema.ZONE_MASTER_KEYS, zone.getZone(), zone, zoneMasterKeys.get(zone.getZone()));
    }
    if (writes.policy().isPresent()) {
      put(batch, Schema.ACCESS_POLICY, POLICY_KEY, writes.policy().get(), policyRecord);
    }
  }

  private static void put(
      StateBatch batch, Schema family, String id, MessageLite record, MessageLite previousOrNull)
      throws RocksDBException {
    batch.put(
        family,
        StoreKeys.utf8(id),
        record.toByteArray(),
        previousOrNull == null ? null : previousOrNull.toByteArray());
  }

  /** Shows {@code writes}, staged by {@link #stage}, to readers once their batch is written. */
  public void apply(RecordWrites writes) {
    writes.keys().forEach(this::putKey);
    writes.node().ifPresent(this::putNode);
    writes.bulkRotation().ifPresent(this::putBulkRotation);
    writes.zoneMasterKey().ifPresent(this::putZoneMasterKey);
    writes.policy().ifPresent(this::putPolicy);
  }

  private void putKey(KeyRecord key) {
    if (keys.put(key.getName(), key) == null) {
      keysPerZone.merge(key.getZone(), 1L, Long::sum);
      keyTotal.incrementAndGet();
    }
    if (StateView.awaitsValidation(key)) {
      awaitingValidation.add(key.getName());
    } else {
      awaitingValidation.remove(key.getName());
    }
  }

  private void putNode(NodeRecord node) {
    if (node.getRemoved()) {
      // RemoveNode: the record leaves the registry.
      nodes.remove(node.getId());
      return;
    }
    nodes.put(node.getId(), node);
  }

  private void putBulkRotation(BulkRotationRecord job) {
    bulkRotations.put(job.getId(), job);
  }

  private void putZoneMasterKey(ZoneMasterKeyRecord zone) {
    zoneMasterKeys.put(zone.getZone(), zone);
  }

  private void putPolicy(AuthorizationPolicyRecord record) {
    policy = AccessPolicy.compile(record.getPolicy());
    policyRecord = record;
  }

  /** The authorisation policy in force, compiled; {@link AccessPolicy#NONE} before the first. */
  public AccessPolicy accessPolicy() {
    return policy;
  }

  /** The current record of a key. */
  public Optional<KeyRecord> key(String name) {
    return Optional.ofNullable(keys.get(name));
  }

  /** Every key in name order (a live, read-only view). */
  public NavigableMap<String, KeyRecord> keys() {
    return Collections.unmodifiableNavigableMap(keys);
  }

  /** The names of the keys whose newest version awaits validation (a live, read-only view). */
  public NavigableSet<String> keysAwaitingValidation() {
    return Collections.unmodifiableNavigableSet(awaitingValidation);
  }

  /** Every registered node in id order (a live, read-only view). */
  public NavigableMap<String, NodeRecord> nodes() {
    return Collections.unmodifiableNavigableMap(nodes);
  }

  /** The zone master key record of a zone. */
  public Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone) {
    return Optional.ofNullable(zoneMasterKeys.get(zone));
  }

  /** The zone master key record of every zone ever rotated (a live, read-only view). */
  public NavigableMap<String, ZoneMasterKeyRecord> zoneMasterKeys() {
    return Collections.unmodifiableNavigableMap(zoneMasterKeys);
  }

  /** The bulk rotations started so far, by id (a live, read-only view). */
  public NavigableMap<String, BulkRotationRecord> bulkRotations() {
    return Collections.unmodifiableNavigableMap(bulkRotations);
  }

  /** These views as the transitions read them: the state before the command. */
  public StateReader reader() {
    StateReader maps = StateReader.of(keys, nodes, bulkRotations, zoneMasterKeys);
    return new StateReader() {
      @Override
      public Optional<KeyRecord> key(String name) {
        return maps.key(name);
      }

      @Override
      public java.util.Collection<KeyRecord> keys() {
        return maps.keys();
      }

      @Override
      public long keyCount() {
        return RecordViews.this.keyCount();
      }

      @Override
      public long keyCountInZone(String zone) {
        return RecordViews.this.keyCountInZone(zone);
      }

      @Override
      public java.util.Collection<NodeRecord> nodes() {
        return maps.nodes();
      }

      @Override
      public Optional<BulkRotationRecord> bulkRotation(String id) {
        return maps.bulkRotation(id);
      }

      @Override
      public Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone) {
        return maps.zoneMasterKey(zone);
      }
    };
  }

  /** How many keys there are (a skip list's size would count them one by one). */
  public long keyCount() {
    return keyTotal.get();
  }

  /** How many keys of {@code zone} there are. */
  public long keyCountInZone(String zone) {
    return keysPerZone.getOrDefault(zone, 0L);
  }
}
