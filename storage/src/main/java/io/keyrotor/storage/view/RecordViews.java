package io.keyrotor.storage.view;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import io.keyrotor.proto.internal.v1.AuthorizationPolicyRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.AttentionEntry;
import io.keyrotor.storage.StateReader;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.codec.StoreKeys;
import io.keyrotor.storage.schema.Schema;
import io.keyrotor.storage.schema.StateBatch;
import io.keyrotor.storage.schema.StateDatabase;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * The records of the replicated state as readers and the transitions see them. Key records stay in
 * RocksDB and are read through a bounded {@link KeyCache}; what is derived from them (counts, keys
 * awaiting validation, when each key next needs the scheduler) is kept in RocksDB too ({@link
 * KeyIndexes}), so neither the heap nor the start-up grows with the number of keys. Nodes, zone
 * master key records, bulk rotations and the authorisation policy (kept compiled, {@link
 * AccessPolicy}) are few and held in memory.
 *
 * <p>Written by the apply thread only, in two steps: {@link #stage} puts a command's records into
 * its batch (and moves the digest by the values they replace), then, once the batch is written,
 * {@link #apply} shows them to readers. Readers see each record replaced atomically: a key record
 * read from RocksDB is a committed one, and the cache holds nothing older than what is committed.
 */
public final class RecordViews {
  /** How many keys one page of a whole-keyspace reading holds. */
  static final int PAGE = 256;

  private final StateDatabase database;
  private final KeyCache cache;
  private final KeyIndexes indexes = new KeyIndexes();
  private final ConcurrentSkipListMap<String, NodeRecord> nodes = new ConcurrentSkipListMap<>();
  private final ConcurrentSkipListMap<String, ZoneMasterKeyRecord> zoneMasterKeys =
      new ConcurrentSkipListMap<>();
  private final ConcurrentSkipListMap<String, BulkRotationRecord> bulkRotations =
      new ConcurrentSkipListMap<>();
  private volatile AuthorizationPolicyRecord policyRecord;
  private volatile AccessPolicy policy = AccessPolicy.NONE;
  // The keys the staged batch creates (apply thread only), counted once it is written.
  private List<KeyRecord> created = List.of();

  /** The key of the one record of the ACCESS_POLICY family. */
  private static final String POLICY_KEY = "policy";

  /**
   * @param keyCacheBytes the bound of the key cache, in estimated heap bytes
   */
  public RecordViews(StateDatabase database, long keyCacheBytes) {
    this.database = database;
    this.cache = new KeyCache(keyCacheBytes);
  }

  /**
   * Loads what is held in memory (nodes, zone master keys, bulk rotations, the policy, the key
   * counts per zone): no key record is read, except once to index a store written before the
   * indexes existed ({@code lastCommandTimeMillis} is the time they are indexed at).
   */
  public void load(long lastCommandTimeMillis)
      throws RocksDBException, InvalidProtocolBufferException {
    for (Schema family :
        List.of(
            Schema.NODES, Schema.BULK_ROTATIONS, Schema.ZONE_MASTER_KEYS, Schema.ACCESS_POLICY)) {
      try (RocksIterator it = database.newIterator(family)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] value = it.value();
          switch (family) {
            case NODES -> putNode(NodeRecord.parseFrom(value));
            case BULK_ROTATIONS -> putBulkRotation(BulkRotationRecord.parseFrom(value));
            case ZONE_MASTER_KEYS -> putZoneMasterKey(ZoneMasterKeyRecord.parseFrom(value));
            default -> putPolicy(AuthorizationPolicyRecord.parseFrom(value));
          }
        }
        it.status();
      }
    }
    indexes.load(database, each -> forEachStoredKey(each), lastCommandTimeMillis);
  }

  private void forEachStoredKey(java.util.function.Consumer<KeyRecord> each)
      throws RocksDBException {
    try (RocksIterator it = database.newIterator(Schema.KEYS)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        each.accept(parse(it.value()));
      }
      it.status();
    }
  }

  private static KeyRecord parse(byte[] value) {
    try {
      return KeyRecord.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new io.keyrotor.storage.StorageException("a stored key record cannot be decoded", e);
    }
  }

  /**
   * Puts {@code writes} into {@code batch}, each record replacing its current value, with what
   * follows from the key records at command time {@code time}.
   */
  public void stage(StateBatch batch, RecordWrites writes, long time) throws RocksDBException {
    List<KeyRecord> newKeys = new ArrayList<>();
    for (KeyRecord key : writes.keys()) {
      KeyRecord previous = key(key.getName()).orElse(null);
      put(batch, Schema.KEYS, key.getName(), key, previous);
      indexes.stage(batch, database, previous, key, time);
      if (previous == null) {
        newKeys.add(key);
      }
    }
    indexes.stageCounts(batch, newKeys);
    created = newKeys;
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

  /** Puts the removal of {@code jobs} (as stored) into {@code batch}: retention. */
  public void stageRemovals(StateBatch batch, List<BulkRotationRecord> jobs)
      throws RocksDBException {
    for (BulkRotationRecord job : jobs) {
      batch.delete(Schema.BULK_ROTATIONS, StoreKeys.utf8(job.getId()), job.toByteArray());
    }
  }

  /** Forgets {@code jobs}, whose removal {@link #stageRemovals} staged, once it is written. */
  public void removeBulkRotations(List<BulkRotationRecord> jobs) {
    jobs.forEach(job -> bulkRotations.remove(job.getId()));
  }

  /** Shows {@code writes}, staged by {@link #stage}, to readers once their batch is written. */
  public void apply(RecordWrites writes) {
    writes.keys().forEach(cache::publish);
    indexes.publishCounts(created);
    created = List.of();
    writes.node().ifPresent(this::putNode);
    writes.bulkRotation().ifPresent(this::putBulkRotation);
    writes.zoneMasterKey().ifPresent(this::putZoneMasterKey);
    writes.policy().ifPresent(this::putPolicy);
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

  /** The current (committed) record of a key, through the cache. */
  public Optional<KeyRecord> key(String name) {
    return cache.get(name, this::readKey);
  }

  private Optional<KeyRecord> readKey(String name) {
    return database.read(
        "key record " + name,
        db -> {
          byte[] value = db.get(Schema.KEYS, StoreKeys.utf8(name));
          return value == null ? Optional.empty() : Optional.of(KeyRecord.parseFrom(value));
        });
  }

  /** The key cache (its size and statistics). */
  public KeyCache cache() {
    return cache;
  }

  /**
   * Up to {@code limit} keys after {@code afterName} (exclusive; "" for the first) in name order,
   * read from RocksDB by seeking to the page's start.
   */
  public List<KeyRecord> keysAfter(String afterName, int limit) {
    return database.read(
        "keys after \"" + afterName + "\"",
        db -> {
          List<KeyRecord> page = new ArrayList<>(Math.min(limit, PAGE));
          byte[] after = StoreKeys.utf8(afterName);
          try (RocksIterator it = db.newIterator(Schema.KEYS)) {
            if (afterName.isEmpty()) {
              it.seekToFirst();
            } else {
              it.seek(after);
              if (it.isValid() && java.util.Arrays.equals(it.key(), after)) {
                it.next();
              }
            }
            for (; it.isValid() && page.size() < limit; it.next()) {
              page.add(KeyRecord.parseFrom(it.value()));
            }
            it.status();
          }
          return page;
        });
  }

  /** Every key in name order, read a page at a time (no more than a page is held). */
  public Iterable<KeyRecord> allKeys() {
    return KeyPages.after("", this::keysAfter);
  }

  /** The names of the keys whose newest version awaits validation, read from their index. */
  public NavigableSet<String> keysAwaitingValidation() {
    return database.read(
        "keys awaiting validation",
        db -> {
          NavigableSet<String> names = new TreeSet<>();
          try (RocksIterator it = db.newIterator(Schema.KEYS_AWAITING_VALIDATION)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
              names.add(new String(it.key(), java.nio.charset.StandardCharsets.UTF_8));
            }
            it.status();
          }
          return Collections.unmodifiableNavigableSet(names);
        });
  }

  /**
   * Up to {@code limit} entries of the attention index after {@code after} (exclusive) whose time
   * is before {@code beforeTimeMillis}, in (time, name) order.
   */
  public List<AttentionEntry> keysNeedingAttention(
      AttentionEntry after, long beforeTimeMillis, int limit) {
    return database.read(
        "the key attention index",
        db -> {
          List<AttentionEntry> out = new ArrayList<>();
          byte[] start = KeyIndexes.attentionKey(after.timeMillis(), after.name());
          try (RocksIterator it = db.newIterator(Schema.KEY_ATTENTION)) {
            it.seek(start);
            if (it.isValid() && java.util.Arrays.equals(it.key(), start)) {
              it.next();
            }
            for (; it.isValid() && out.size() < limit; it.next()) {
              AttentionEntry entry = KeyIndexes.attentionEntry(it.key());
              if (entry.timeMillis() >= beforeTimeMillis) {
                break;
              }
              out.add(entry);
            }
            it.status();
          }
          return out;
        });
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
    return new StateReader() {
      @Override
      public Optional<KeyRecord> key(String name) {
        return RecordViews.this.key(name);
      }

      @Override
      public Iterable<KeyRecord> keys() {
        return allKeys();
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
        return Collections.unmodifiableCollection(nodes.values());
      }

      @Override
      public Optional<BulkRotationRecord> bulkRotation(String id) {
        return Optional.ofNullable(bulkRotations.get(id));
      }

      @Override
      public Optional<ZoneMasterKeyRecord> zoneMasterKey(String zone) {
        return RecordViews.this.zoneMasterKey(zone);
      }

      @Override
      public Optional<io.keyrotor.proto.internal.v1.DestructionReceiptRecord> destructionReceipt(
          String name, int version) {
        return io.keyrotor.storage.receipt.DestructionReceipts.read(database, name, version);
      }
    };
  }

  /** How many keys there are (kept with each batch, never counted). */
  public long keyCount() {
    return indexes.keyTotal();
  }

  /** How many keys of {@code zone} there are. */
  public long keyCountInZone(String zone) {
    return indexes.keyCountInZone(zone);
  }

  /** The key count of every zone that holds keys. */
  public Map<String, Long> keyCountsByZone() {
    return indexes.keyCountsByZone();
  }
}
