package io.keyrotor.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.keyrotor.api.v1.AuditRecord;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One key's history from the audit chain: its rotations, state changes, policy changes and the
 * calls on it that were denied, each with who caused it.
 *
 * <p>The entries come from the replicated chain only. Data-plane uses (encrypt, decrypt) are
 * recorded per node in a separate stream; merging them in is adding a source of {@link Entry}s
 * ordered by time here, without changing how chain entries are made.
 */
final class AuditTimeline {
  private AuditTimeline() {}

  /** One line of the timeline. */
  record Entry(
      long logIndex,
      long timeUnixMillis,
      String action,
      int version,
      String outcome,
      String by,
      String detail) {}

  /** The entry {@code record} makes in {@code key}'s timeline, if it is about that key. */
  static Optional<Entry> entryOf(AuditRecord record, String key) {
    String by =
        record.getPrincipal().isEmpty()
            ? "node " + record.getProposerNode()
            : record.getPrincipal();
    String outcome = record.getResultCode() == 0 ? "OK" : record.getResultReason();
    if (record.getKeyName().equals(key)) {
      return Optional.of(
          new Entry(
              record.getLogIndex(),
              record.getTimeUnixMillis(),
              record.getAction(),
              record.getVersion(),
              outcome,
              by,
              record.getDetail()));
    }
    if (record.getAction().equals("RECORD_DENIALS")) {
      // "PERMISSION_DENIED principal=P permission=X key=K method=M count=N; ..."
      String detail = record.getDetail().replaceFirst("^PERMISSION_DENIED ", "");
      StringBuilder mine = new StringBuilder();
      String principal = "";
      for (String denial : detail.split("; ", -1)) {
        if ((" " + denial + " ").contains(" key=" + key + " ")) {
          mine.append(mine.length() == 0 ? "" : "; ").append(denial);
          for (String field : denial.split(" ", -1)) {
            if (field.startsWith("principal=") && principal.isEmpty()) {
              principal = field.substring("principal=".length());
            }
          }
        }
      }
      if (mine.length() > 0) {
        return Optional.of(
            new Entry(
                record.getLogIndex(),
                record.getTimeUnixMillis(),
                "DENIED",
                0,
                "PERMISSION_DENIED",
                principal,
                mine.toString()));
      }
    }
    return Optional.empty();
  }

  static JsonArray json(List<Entry> entries) {
    JsonArray out = new JsonArray();
    for (Entry e : entries) {
      JsonObject o = new JsonObject();
      o.addProperty("log_index", e.logIndex());
      o.addProperty("time", Instant.ofEpochMilli(e.timeUnixMillis()).toString());
      o.addProperty("action", e.action());
      o.addProperty("version", e.version());
      o.addProperty("outcome", e.outcome());
      o.addProperty("by", e.by());
      o.addProperty("detail", e.detail());
      out.add(o);
    }
    return out;
  }

  static String human(String key, List<Entry> entries) {
    if (entries.isEmpty()) {
      return "no audit record about key \"" + key + "\"\n";
    }
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "%-24s %7s %-24s %3s %-20s %-20s %s%n",
            "TIME", "INDEX", "ACTION", "V", "OUTCOME", "BY", "DETAIL"));
    for (Entry e : entries) {
      out.append(
          String.format(
              "%-24s %7d %-24s %3s %-20s %-20s %s%n",
              Instant.ofEpochMilli(e.timeUnixMillis()),
              e.logIndex(),
              e.action(),
              e.version() == 0 ? "-" : Integer.toString(e.version()),
              e.outcome(),
              e.by(),
              e.detail()));
    }
    return out.toString();
  }
}
