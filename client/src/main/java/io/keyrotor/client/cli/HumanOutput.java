package io.keyrotor.client.cli;

import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.NodeStatus;
import java.util.ArrayList;
import java.util.List;

/** The CLI's compact tables for people (the default when {@code --json} is absent). */
final class HumanOutput {

  private HumanOutput() {}

  /** A key's summary lines followed by a table of its versions. */
  static String key(Key key) {
    Table summary = new Table();
    summary.row("name", key.getName());
    summary.row("zone", key.getZone());
    summary.row("primary", key.getPrimaryVersion() == 0 ? "none" : "v" + key.getPrimaryVersion());
    if (key.getLabelsCount() > 0) {
      summary.row("labels", JsonOutput.labelsText(key.getLabelsMap()));
    }
    Table versions = new Table();
    versions.row("VERSION", "STATE", "ACTIVATION_TIME", "REASON");
    for (KeyVersion version : key.getVersionsList()) {
      String reason = JsonOutput.reasonName(version.getRotationReason());
      versions.row(
          "v" + version.getVersion(),
          JsonOutput.stateName(version.getState()),
          version.hasActivationTime() ? JsonOutput.timeText(version.getActivationTime()) : "-",
          reason == null ? "-" : reason);
    }
    return summary.render() + versions.render();
  }

  /** One row per key. */
  static String keys(List<Key> keys) {
    if (keys.isEmpty()) {
      return "no keys\n";
    }
    Table table = new Table();
    table.row("NAME", "ZONE", "PRIMARY", "VERSIONS", "LABELS");
    for (Key key : keys) {
      table.row(
          key.getName(),
          key.getZone(),
          key.getPrimaryVersion() == 0 ? "-" : "v" + key.getPrimaryVersion(),
          Integer.toString(key.getVersionsCount()),
          key.getLabelsCount() == 0 ? "-" : JsonOutput.labelsText(key.getLabelsMap()));
    }
    return table.render();
  }

  /**
   * One row per node; the leader is marked with {@code *}. {@code HSM} is the kind with the token
   * label ({@code pkcs11:keyrotor-n1}, {@code software}) and {@code HSM_OK} says {@code yes} or
   * {@code NO}; {@code -} when a node reported no HSM.
   */
  static String cluster(ClusterStatus status) {
    Table table = new Table();
    table.row(
        "ID",
        "REGION",
        "ROLE",
        "TERM",
        "APPLIED",
        "DIGEST",
        "API_ADDRESS",
        "ZONES",
        "HSM",
        "HSM_OK",
        "ERROR");
    for (NodeStatus node : status.getNodesList()) {
      boolean leader = !status.getLeaderId().isEmpty() && status.getLeaderId().equals(node.getId());
      String digest = node.getStateDigest();
      table.row(
          node.getId() + (leader ? "*" : ""),
          dash(node.getRegion()),
          JsonOutput.roleName(node.getRole()),
          Long.toUnsignedString(node.getTerm()),
          Long.toUnsignedString(node.getAppliedIndex()),
          digest.isEmpty() ? "-" : digest.substring(0, Math.min(12, digest.length())),
          dash(node.getApiAddress()),
          node.getZonesCount() == 0 ? "-" : String.join(",", node.getZonesList()),
          node.hasHsm() ? hsmText(node.getHsm()) : "-",
          node.hasHsm() ? (node.getHsm().getHealthy() ? "yes" : "NO") : "-",
          dash(node.getError()));
    }
    return table.render();
  }

  private static String hsmText(io.keyrotor.api.v1.HsmStatus hsm) {
    String kind = hsm.getKind().isEmpty() ? "unknown" : hsm.getKind();
    return hsm.getTokenLabel().isEmpty() ? kind : kind + ":" + hsm.getTokenLabel();
  }

  private static String dash(String value) {
    return value.isEmpty() ? "-" : value;
  }

  /** Left-aligned columns separated by two spaces; trailing spaces trimmed. */
  static final class Table {
    private final List<String[]> rows = new ArrayList<>();

    void row(String... cells) {
      rows.add(cells);
    }

    String render() {
      int columns = rows.stream().mapToInt(r -> r.length).max().orElse(0);
      int[] widths = new int[columns];
      for (String[] row : rows) {
        for (int i = 0; i < row.length; i++) {
          widths[i] = Math.max(widths[i], row[i].length());
        }
      }
      StringBuilder text = new StringBuilder();
      for (String[] row : rows) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < row.length; i++) {
          line.append(row[i]);
          if (i < row.length - 1) {
            line.append(" ".repeat(widths[i] - row[i].length() + 2));
          }
        }
        text.append(line.toString().stripTrailing()).append('\n');
      }
      return text.toString();
    }
  }
}
