package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.view.KeyPages;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Optional;

/**
 * The replicated state of one node, read-only: all that the server sees of storage. Only the state
 * machine changes the state, by applying log entries; nothing reachable through this interface
 * writes.
 *
 * <p>Readers on any thread see each record replaced atomically, and {@link #appliedPosition()}
 * moves only after every record written by that entry is visible. Maps of nodes, zones and bulk
 * rotations are live, unmodifiable views; keys are read from the store (through a bounded cache)
 * and never held all at once.
 */
public interface StateView {
  /** The position of the last applied entry. */
  AppliedPosition appliedPosition();

  /**
   * Runs {@code read} over this state and returns its result with the applied position it read,
   * when no entry was applied while it ran; empty when one was (the caller reads again). Several
   * records read by one such call are the state at that one position. {@code read} must only read.
   */
  <T> Optional<AtPosition<T>> readAtOnePosition(java.util.function.Function<StateView, T> read);

  /** What a read found, and the applied position of the state it read. */
  record AtPosition<T>(AppliedPosition position, T value) {}

  /** The effective time of the last applied command (leader time, clamped to be monotonic). */
  long lastCommandTimeMillis();

  /** The state digest at {@link #appliedPosition()}, hex; equal on every replica at that index. */
  String digest();

  /** The head of the audit chain (SHA-256 of the last audit record), hex. */
  String auditHead();

  /** The current record of a key. */
  Optional<KeyRecord> key(String name);

  /**
   * Up to {@code limit} keys after {@code afterName} (exclusive; "" for the first), in name order:
   * one page, read from the store by seeking to its start.
   */
  List<KeyRecord> keysAfter(String afterName, int limit);

  /**
   * The keys after {@code afterName} (exclusive; "" for every key), in name order, read a page at a
   * time as they are iterated: no more than a page is held, whatever the number of keys. A key
   * written meanwhile is seen as it is when its page is read.
   */
  default Iterable<KeyRecord> keysFrom(String afterName) {
    return KeyPages.after(afterName, this::keysAfter);
  }

  /** Every key in name order, read a page at a time ({@link #keysFrom}). */
  default Iterable<KeyRecord> allKeys() {
    return keysFrom("");
  }

  /** How many keys there are. */
  long keyCount();

  /** How many keys of {@code zone} there are. */
  long keyCountInZone(String zone);

  /** The key count of every zone that holds keys. */
  Map<String, Long> keyCountsByZone();

  /**
   * Up to {@code limit} entries of the index of when keys may next need the rotation scheduler,
   * after {@code after} (exclusive; {@link AttentionEntry#START} for the first) and before {@code
   * beforeTimeMillis}, in (time, name) order. Each key has an entry at the time its record was last
   * written and at each of its recorded times after that (activations, validation deadlines,
   * destroys, demotions, the next rotation, the end of a decrypt grace), so a scheduler that reads
   * the entries up to now sees every key whose needs may have changed, and no other.
   */
  List<AttentionEntry> keysNeedingAttention(AttentionEntry after, long beforeTimeMillis, int limit);

  /**
   * The background check of the stored data against the stored digest ({@link IntegrityStatus}): a
   * node whose check failed must not serve.
   */
  IntegrityStatus integrity();

  /**
   * The key record cache over the store: how many records it holds, their estimated heap bytes and
   * its bound ({@code storage.key-cache-bytes}).
   */
  KeyCacheStatus keyCacheStatus();

  /**
   * What the key record cache holds ({@code entries}, {@code bytes} of estimated heap) against its
   * bound ({@code capacityBytes}).
   */
  record KeyCacheStatus(long entries, long bytes, long capacityBytes) {}

  /**
   * The names of the keys whose newest version is enabled and waits for validation (gated, not yet
   * validated; past its deadline too, until the gate cancels it), in name order; updated with the
   * key records before the applied position is published.
   */
  NavigableSet<String> keysAwaitingValidation();

  /** Every registered node in id order. */
  NavigableMap<String, NodeRecord> nodes();

  /** The zone master key record of every zone ever rotated, by zone. */
  NavigableMap<String, ZoneMasterKeyRecord> zoneMasterKeys();

  /** The bulk rotations started so far, by id. */
  NavigableMap<String, BulkRotationRecord> bulkRotations();

  /**
   * The authorisation policy in force, compiled (its version is the policy's); {@link
   * AccessPolicy#NONE}, which denies everything, before the first one is applied.
   */
  AccessPolicy accessPolicy();

  /**
   * The cluster's active apply version as this node applied it (replicated state): which gated
   * apply behaviours ({@link io.keyrotor.storage.version.ApplyFeature}) are on.
   */
  int activeClusterVersion();

  /** Audit records from {@code fromIndex} on, at most {@code limit}. */
  List<AuditRecord> audit(long fromIndex, int limit);

  /** The last audit record written (the one whose hash is the head or is about to be), if any. */
  Optional<AuditRecord> lastAudit();

  /**
   * The log index of the first audit record whose time is at or after {@code timeMillis} (times
   * never decrease along the chain, so this is a binary search), or empty when none is.
   */
  Optional<Long> firstAuditIndexAtOrAfter(long timeMillis);

  /** The cursor of the newest event (see {@link #cursorOf}), or -1 if there is none yet. */
  long lastEventCursor();

  /** Up to {@code limit} events after {@code cursor} (exclusive), in log order. */
  List<KeyEventRecord> eventsAfter(long cursor, int limit);

  /** The events of one key, oldest first, at most {@code limit}. */
  List<KeyEventRecord> keyEvents(String name, int limit);

  /**
   * Waits until an event after {@code cursor} exists or {@code timeoutMillis} passed; returns
   * whether one does.
   */
  boolean awaitEventsAfter(long cursor, long timeoutMillis) throws InterruptedException;

  /**
   * An event cursor: (log index, sequence) packed into one long, ordered like the event stream. The
   * sequence of an event within its log entry is below 2^16.
   */
  static long cursorOf(long logIndex, int sequence) {
    return (logIndex << 16) | (sequence & 0xffff);
  }

  /**
   * Whether the newest version of {@code key} is enabled, gated and not yet validated: the
   * condition of {@link #keysAwaitingValidation()}, for a reader that holds a record from it.
   */
  static boolean awaitsValidation(KeyRecord key) {
    if (key.getVersionsCount() == 0) {
      return false;
    }
    KeyVersionRecord newest = key.getVersions(key.getVersionsCount() - 1);
    return newest.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
        && newest.getValidationDeadlineUnixMillis() != 0
        && newest.getValidatedTimeUnixMillis() == 0;
  }

  /**
   * The receipt of version {@code version} of key {@code name}: present once a DestroyVersion
   * destroyed it (see {@code DestructionReceiptRecord}).
   */
  Optional<DestructionReceiptRecord> destructionReceipt(String name, int version);

  /**
   * Checks the audit chain from the record the last checkpoint signs to the head ({@code
   * AuditChain.verifyFromLastCheckpoint}): empty when intact, otherwise what is wrong.
   */
  Optional<String> verifyAuditChain();

  /** At most {@code limit} receipts not signed yet, in key name and version order. */
  List<DestructionReceiptRecord> unsignedDestructionReceipts(int limit);
}
