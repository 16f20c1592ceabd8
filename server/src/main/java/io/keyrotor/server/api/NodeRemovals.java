package io.keyrotor.server.api;

import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.storage.StateView;
import java.util.List;
import java.util.Optional;

/**
 * Finds the removal of a node that is no longer a member, so a retried RemoveNode answers what the
 * first call did instead of NOT_FOUND. The replicated audit trail is the record of removals: every
 * node holds it, it survives restarts and snapshots, and each applied RemoveNode leaves one record
 * (action {@code REMOVE_NODE}, result OK, detail {@code node=ID ...}). A node that left the
 * registry and the Raft group and whose id has such a record was removed; one without was never
 * known.
 *
 * <p>The search is bounded: it reads at most the last {@link #LOOKBACK_ENTRIES} log entries' audit
 * records, in pages, so a retry long after the removal (or after retention trimmed the record) gets
 * NOT_FOUND, whose message says so.
 */
final class NodeRemovals {
  /** How many log entries back a removal is still recognised. */
  static final long LOOKBACK_ENTRIES = 200_000;

  private static final int PAGE = 1_000;
  private static final String ACTION = "REMOVE_NODE";

  private NodeRemovals() {}

  /** The newest applied removal of {@code nodeId} within the look-back, if any. */
  static Optional<AuditRecord> lastRemoval(StateView state, String nodeId) {
    Optional<AuditRecord> head = state.lastAudit();
    if (head.isEmpty()) {
      return Optional.empty();
    }
    long headIndex = head.get().getLogIndex();
    long from = Math.max(0, headIndex - LOOKBACK_ENTRIES);
    AuditRecord found = null;
    while (from <= headIndex) {
      List<AuditRecord> page = state.audit(from, PAGE);
      if (page.isEmpty()) {
        break;
      }
      for (AuditRecord record : page) {
        if (isRemovalOf(record, nodeId)) {
          found = record;
        }
      }
      long last = page.get(page.size() - 1).getLogIndex();
      if (page.size() < PAGE) {
        break;
      }
      // A page may end amid one entry's records (a command batch): start the next one at that
      // entry again (records seen twice change nothing), unless the whole page was that entry.
      from = last > from ? last : from + 1;
    }
    return Optional.ofNullable(found);
  }

  private static boolean isRemovalOf(AuditRecord record, String nodeId) {
    if (!ACTION.equals(record.getAction()) || record.getResultCode() != 0) {
      return false;
    }
    String detail = record.getDetail();
    String prefix = "node=" + nodeId;
    return detail.equals(prefix) || detail.startsWith(prefix + " ");
  }
}
