package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.access.AccessPolicy;
import java.util.List;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Optional;

/**
 * The replicated state of one node, read-only: all that the server sees of storage. Only the state
 * machine changes the state, by applying log entries; nothing reachable through this interface
 * writes.
 *
 * <p>Readers on any thread see each record replaced atomically, and {@link #appliedPosition()}
 * moves only after every record written by that entry is visible. Maps and sets are live,
 * unmodifiable views.
 */
public interface StateView {
  /** The position of the last applied entry. */
  AppliedPosition appliedPosition();

  /** The effective time of the last applied command (leader time, clamped to be monotonic). */
  long lastCommandTimeMillis();

  /** The state digest at {@link #appliedPosition()}, hex; equal on every replica at that index. */
  String digest();

  /** The head of the audit chain (SHA-256 of the last audit record), hex. */
  String auditHead();

  /** The current record of a key. */
  Optional<KeyRecord> key(String name);

  /** Every key in name order. */
  NavigableMap<String, KeyRecord> keys();

  /** How many keys there are. */
  default long keyCount() {
    return keys().size();
  }

  /** How many keys of {@code zone} there are. */
  default long keyCountInZone(String zone) {
    return keys().values().stream().filter(k -> k.getZone().equals(zone)).count();
  }

  /**
   * The names of the keys whose newest version is enabled and waits for validation (gated, not yet
   * validated; past its deadline too, until the gate cancels it), in name order; updated with
   * {@link #keys()} before the applied position is published.
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
}
