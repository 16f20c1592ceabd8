package io.keyrotor.cli;

import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.RotationStatus;
import io.keyrotor.api.v1.ThrottledPrincipal;
import io.keyrotor.api.v1.TransportSecurity;
import io.keyrotor.client.Durations;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/** The CLI's compact tables for people (the default when {@code --json} is absent). */
final class HumanOutput {

  private HumanOutput() {}

  /**
   * A key's summary lines (with its rotation policy, next rotation, floors and dependents) followed
   * by a table of its versions. The {@code DETAIL} column, present when some version has one, shows
   * a pending version's validation state and why a version is cancelled, disabled or rolled back.
   */
  static String key(Key key) {
    Table summary = new Table();
    summary.row("name", key.getName());
    summary.row("zone", key.getZone());
    summary.row("primary", key.getPrimaryVersion() == 0 ? "none" : "v" + key.getPrimaryVersion());
    if (key.getLabelsCount() > 0) {
      summary.row("labels", JsonOutput.labelsText(key.getLabelsMap()));
    }
    summary.row("policy", policyText(key));
    summary.row("next rotation", nextRotationText(key));
    if (key.getMinDecryptionVersion() > 0 || key.getMinEncryptionVersion() > 0) {
      summary.row(
          "floors",
          "decrypt from v"
              + Math.max(1, key.getMinDecryptionVersion())
              + ", encrypt from v"
              + Math.max(1, key.getMinEncryptionVersion()));
    }
    if (key.getDependentsCount() > 0) {
      summary.row("dependents", String.join(", ", key.getDependentsList()));
    }
    List<String> details = new ArrayList<>();
    for (KeyVersion version : key.getVersionsList()) {
      details.add(versionDetail(version));
    }
    boolean withDetail = details.stream().anyMatch(detail -> !detail.isEmpty());
    Table versions = new Table();
    if (withDetail) {
      versions.row("VERSION", "STATE", "ACTIVATION_TIME", "REASON", "DETAIL");
    } else {
      versions.row("VERSION", "STATE", "ACTIVATION_TIME", "REASON");
    }
    for (int i = 0; i < key.getVersionsCount(); i++) {
      KeyVersion version = key.getVersions(i);
      String reason = JsonOutput.reasonName(version.getRotationReason());
      String[] cells = {
        "v" + version.getVersion(),
        JsonOutput.stateName(version.getState()),
        version.hasActivationTime() ? JsonOutput.timeText(version.getActivationTime()) : "-",
        reason == null ? "-" : reason,
        details.get(i)
      };
      versions.row(withDetail ? cells : java.util.Arrays.copyOf(cells, 4));
    }
    return summary.render() + versions.render();
  }

  /** {@code every 90d, at most 1000000 encryptions, activation delay 1h, ...} or {@code none}. */
  static String policyText(Key key) {
    if (!key.hasRotationPolicy()) {
      return "none (rotates only when asked)";
    }
    RotationPolicy policy = key.getRotationPolicy();
    List<String> parts = new ArrayList<>();
    if (policy.hasRotationPeriod()) {
      parts.add("every " + durationText(policy.getRotationPeriod()));
    }
    if (policy.getMaxEncryptions() > 0) {
      parts.add("after " + Long.toUnsignedString(policy.getMaxEncryptions()) + " encryptions");
    }
    if (parts.isEmpty()) {
      parts.add("rotates only when asked");
    }
    parts.add(
        "activation delay "
            + (policy.hasActivationDelay()
                ? durationText(policy.getActivationDelay())
                : "cluster default"));
    parts.add(
        "decrypt grace "
            + (policy.hasDecryptGrace() && durationOf(policy.getDecryptGrace()).toMillis() > 0
                ? durationText(policy.getDecryptGrace())
                : "until the floor is raised"));
    if (policy.hasNextRotationTime()) {
      parts.add("anchored at " + JsonOutput.timeText(policy.getNextRotationTime()));
    }
    if (!policy.getTemplate().isEmpty()) {
      parts.add("template " + policy.getTemplate());
    }
    return String.join(", ", parts);
  }

  private static String nextRotationText(Key key) {
    String requested =
        key.getRotationRequestedBy().isEmpty()
            ? ""
            : " (requested by " + key.getRotationRequestedBy() + ")";
    if (!key.hasNextRotationTime()) {
      return requested.isEmpty() ? "none scheduled" : "as soon as possible" + requested;
    }
    return JsonOutput.timeText(key.getNextRotationTime()) + requested;
  }

  /**
   * For a pending version its validation state ({@code validated by n1,n2,n3}, {@code 1/3
   * acknowledged, waiting for n2,n3 until T}, {@code not gated}); otherwise the status reason and a
   * rollback's time, if any.
   */
  static String versionDetail(KeyVersion version) {
    List<String> parts = new ArrayList<>();
    if (version.getState() == KeyVersionState.KEY_VERSION_STATE_PENDING) {
      List<String> required = version.getRequiredAcknowledgersList();
      List<String> acknowledged = version.getAcknowledgedByList();
      if (required.isEmpty()) {
        parts.add("not gated");
      } else {
        List<String> missing = new ArrayList<>(required);
        missing.removeAll(acknowledged);
        if (missing.isEmpty()) {
          parts.add("validated by " + String.join(",", acknowledged));
        } else {
          parts.add(
              (required.size() - missing.size())
                  + "/"
                  + required.size()
                  + " acknowledged, waiting for "
                  + String.join(",", missing)
                  + (version.hasValidationDeadline()
                      ? " until " + JsonOutput.timeText(version.getValidationDeadline())
                      : ""));
        }
      }
    }
    String demoted =
        version.hasDemotedTime() ? JsonOutput.timeText(version.getDemotedTime()) : null;
    if (!version.getStatusReason().isEmpty()) {
      parts.add(version.getStatusReason() + (demoted == null ? "" : " (from " + demoted + ")"));
    } else if (demoted != null) {
      parts.add("rolled back from " + demoted);
    }
    return String.join("; ", parts);
  }

  /** One line per event: time, event, version, reason, actor (a key's history). */
  static String history(String keyName, List<KeyEvent> events) {
    if (events.isEmpty()) {
      return "no events for key " + keyName + "\n";
    }
    Table table = new Table();
    table.row("TIME", "EVENT", "VERSION", "REASON", "ACTOR");
    for (KeyEvent event : events) {
      String reason = JsonOutput.reasonName(event.getReason());
      table.row(
          event.hasTime() ? JsonOutput.timeText(event.getTime()) : "-",
          JsonOutput.eventName(event.getType()),
          event.getVersion() == 0 ? "-" : "v" + event.getVersion(),
          reason == null ? "-" : reason,
          dash(event.getActor()));
    }
    return table.render();
  }

  /** One streamed event on one line, ending with its cursor (to resume with --from). */
  static String event(KeyEvent event) {
    String reason = JsonOutput.reasonName(event.getReason());
    return (event.hasTime() ? JsonOutput.timeText(event.getTime()) : "-")
        + "  "
        + event.getKeyName()
        + (event.getVersion() == 0 ? "" : " v" + event.getVersion())
        + "  "
        + JsonOutput.eventName(event.getType())
        + (reason == null ? "" : "  " + reason)
        + (event.getActor().isEmpty() ? "" : "  by " + event.getActor())
        + "  [cursor "
        + event.getCursor()
        + "]\n";
  }

  /** One row per rotation the cluster knows about. */
  static String rotations(List<RotationStatus> rotations) {
    if (rotations.isEmpty()) {
      return "no rotation pending, due, late, scheduled or failed\n";
    }
    Table table = new Table();
    table.row("KIND", "KEY", "ZONE", "VERSION", "TIME", "DETAIL");
    for (RotationStatus rotation : rotations) {
      table.row(
          JsonOutput.kindName(rotation.getKind()),
          rotation.getKeyName(),
          dash(rotation.getZone()),
          rotation.getVersion() == 0 ? "-" : "v" + rotation.getVersion(),
          rotation.hasTime() ? JsonOutput.timeText(rotation.getTime()) : "-",
          dash(rotation.getDetail()));
    }
    return table.render();
  }

  /** {@code bulk rotation ID (zone eu, labels team=pay, MANUAL): 3 of 10 keys rotated, 7 left}. */
  static String bulkRotation(BulkRotation job) {
    List<String> scope = new ArrayList<>();
    if (!job.getZone().isEmpty()) {
      scope.add("zone " + job.getZone());
    }
    if (job.getLabelSelectorCount() > 0) {
      scope.add("labels " + JsonOutput.labelsText(job.getLabelSelectorMap()));
    }
    String reason = JsonOutput.reasonName(job.getReason());
    if (reason != null) {
      scope.add(reason);
    }
    long rotated = job.getTotal() - job.getRemaining();
    String progress =
        job.getRemaining() == 0
            ? "all " + job.getTotal() + " keys rotated"
            : rotated + " of " + job.getTotal() + " keys rotated, " + job.getRemaining() + " left";
    return "bulk rotation "
        + job.getId()
        + " ("
        + String.join(", ", scope)
        + "): "
        + progress
        + "\n";
  }

  private static Duration durationOf(com.google.protobuf.Duration duration) {
    return Duration.ofSeconds(duration.getSeconds(), duration.getNanos());
  }

  private static String durationText(com.google.protobuf.Duration duration) {
    Duration value = durationOf(duration);
    return value.isNegative() ? "?" : Durations.format(value);
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
   * {@code NO}; {@code -} when a node reported no HSM. {@code TLS} is {@code mtls} with the date
   * the node certificate expires, or {@code INSECURE} for a plaintext node; an expiry warning or a
   * failed certificate reload follows the table, one line per node, and so does a clock that
   * disagrees with the majority's (UNSAFE, with the offsets). Last, the cluster's active apply
   * version and the version each node supports (rolling upgrades).
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
        "TLS",
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
          transportText(node),
          dash(node.getError()));
    }
    StringBuilder out = new StringBuilder(table.render());
    for (NodeStatus node : status.getNodesList()) {
      TransportSecurity transport = node.getTransportSecurity();
      if (!transport.getExpiryWarning().isEmpty()) {
        out.append("warning: ").append(node.getId()).append(": ");
        out.append(transport.getExpiryWarning()).append('\n');
      }
      if (!transport.getLastReloadFailure().isEmpty()) {
        out.append("warning: ").append(node.getId()).append(": certificate reload failed: ");
        out.append(transport.getLastReloadFailure()).append('\n');
      }
      if (node.getClock().getState().equals("UNSAFE")) {
        out.append("warning: ").append(node.getId()).append(": clock UNSAFE: ");
        out.append(node.getClock().getReason()).append('\n');
      }
      for (ThrottledPrincipal t : node.getThrottledList()) {
        out.append("throttled: ").append(node.getId()).append(": ").append(t.getPrincipal());
        out.append(" over quota ").append(t.getQuota()).append(": ");
        out.append(t.getRefused()).append(t.getRefused() == 1 ? " call" : " calls");
        out.append(" refused since ").append(JsonOutput.instant(t.getFirstRefused()));
        out.append(", last at ").append(JsonOutput.instant(t.getLastRefused())).append('\n');
      }
    }
    if (status.getActiveClusterVersion() > 0) {
      out.append(clusterVersionLine(status)).append('\n');
    }
    return out.toString();
  }

  /**
   * {@code cluster version: 1 (supported: n1=2 n2=2 n3=1)}: the cluster's active apply version and
   * the version each node's binary supports ({@code ?} for a node that did not answer).
   */
  private static String clusterVersionLine(ClusterStatus status) {
    StringBuilder line =
        new StringBuilder("cluster version: ").append(status.getActiveClusterVersion());
    line.append(" (supported:");
    for (NodeStatus node : status.getNodesList()) {
      int supported = node.getSupportedClusterVersion();
      line.append(' ').append(node.getId()).append('=');
      line.append(supported == 0 ? "?" : String.valueOf(supported));
    }
    return line.append(')').toString();
  }

  private static String transportText(NodeStatus node) {
    if (!node.hasTransportSecurity()) {
      return "-";
    }
    TransportSecurity transport = node.getTransportSecurity();
    return switch (transport.getMode()) {
      case TRANSPORT_MODE_MUTUAL_TLS ->
          "mtls"
              + (transport.hasCertificateNotAfter()
                  ? " until "
                      + LocalDate.ofInstant(
                          Instant.ofEpochSecond(transport.getCertificateNotAfter().getSeconds()),
                          ZoneOffset.UTC)
                  : "")
              + (transport.getExpiryWarning().isEmpty() ? "" : " (EXPIRES SOON)");
      case TRANSPORT_MODE_INSECURE_PLAINTEXT -> "INSECURE";
      default -> "-";
    };
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
