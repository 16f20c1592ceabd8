package io.keyrotor.server.http;

import com.google.common.html.HtmlEscapers;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.LimitStatus;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.ThrottledPrincipal;
import io.keyrotor.api.v1.ZoneMasterKeyRotation;
import io.keyrotor.proto.internal.v1.BulkRotationRecord;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Renders the status page: one self-contained HTML document (inline style, no script, no external
 * asset) from the cluster status that GetClusterStatus computes and what this node sees of the
 * replicated state. Every value is HTML-escaped. Key names are never shown: a reader of the cluster
 * status may not be allowed to read keys, so events show their kind, version and origin.
 *
 * <p>Elements that tests and scripts read carry ids and classes: {@code #leader}, {@code
 * tr.member[data-node]} with {@code td.role}, {@code td.term}, {@code td.applied}, {@code
 * td.digest}, {@code td.hsm}.
 */
final class StatusPage {
  private StatusPage() {}

  /**
   * What this node adds to the cluster status: the replicated state as it sees it and its own
   * rotation scheduler's numbers (the scheduler runs on the node responsible for a zone, normally
   * the leader, so a follower shows zeros).
   *
   * @param nodeId the node that renders the page
   * @param keysAwaitingValidation rotated versions waiting for every node's acknowledgement
   * @param bulkRotations bulk rotation jobs in the state
   * @param recentEvents the newest key events, newest last
   * @param rotationsInFlight scheduled rotations proposed and not answered yet
   * @param rotationsLate keys whose scheduled rotation is over a minute late
   * @param rotationFailures scheduled rotations that failed since the node started
   */
  record LocalView(
      String nodeId,
      int keysAwaitingValidation,
      List<BulkRotationRecord> bulkRotations,
      List<KeyEventRecord> recentEvents,
      long rotationsInFlight,
      long rotationsLate,
      long rotationFailures) {}

  private static final String STYLE =
      "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}"
          + "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}"
          + "table{border-collapse:collapse;margin:.4em 0}"
          + "td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;font-size:.9em}"
          + "th{background:#eee}.ok{color:#1a7f37}.bad{color:#c62828;font-weight:bold}"
          + ".mono{font-family:monospace}.note{color:#666;font-size:.85em}"
          + ".LEADER{font-weight:bold}";

  static String render(ClusterStatus cluster, LocalView local, Instant now) {
    StringBuilder h = new StringBuilder(8_192);
    h.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta http-equiv=\"refresh\" content=\"10\">")
        .append("<title>keyrotor: ")
        .append(esc(local.nodeId()))
        .append("</title><style>")
        .append(STYLE)
        .append("</style></head><body>");
    h.append("<h1>keyrotor cluster</h1><p>Seen from node <b id=\"node\">")
        .append(esc(local.nodeId()))
        .append("</b> at ")
        .append(esc(now.toString()))
        .append(". Leader: <b id=\"leader\">")
        .append(esc(cluster.getLeaderId().isEmpty() ? "none" : cluster.getLeaderId()))
        .append("</b>. Members: <span id=\"member-count\">")
        .append(cluster.getNodesCount())
        .append("</span>.</p>");
    members(h, cluster);
    zones(h, cluster);
    rotations(h, cluster, local);
    events(h, local);
    limits(h, cluster, local.nodeId());
    h.append("<p class=\"note\">Read-only; refreshes every 10 s. Metrics: <a href=\"/metrics\">")
        .append("/metrics</a>.</p></body></html>");
    return h.toString();
  }

  private static void members(StringBuilder h, ClusterStatus cluster) {
    h.append("<h2>Members</h2><table id=\"members\"><tr><th>node</th><th>region</th><th>role</th>")
        .append("<th>term</th><th>applied index</th><th>commit index</th><th>state digest</th>")
        .append("<th>keys</th><th>HSM</th><th>clock</th><th>certificate</th><th>error</th></tr>");
    for (NodeStatus node : cluster.getNodesList()) {
      String role = roleName(node.getRole());
      boolean reachable = node.getRole() != NodeRole.NODE_ROLE_UNREACHABLE;
      h.append("<tr class=\"member\" data-node=\"")
          .append(esc(node.getId()))
          .append("\"><td class=\"id\">")
          .append(esc(node.getId()))
          .append("</td><td>")
          .append(esc(node.getRegion()))
          .append("</td><td class=\"role ")
          .append(role)
          .append("\">")
          .append(reachable ? role : "<span class=\"bad\">UNREACHABLE</span>")
          .append("</td><td class=\"term\">")
          .append(node.getTerm())
          .append("</td><td class=\"applied\">")
          .append(node.getAppliedIndex())
          .append("</td><td class=\"commit\">")
          .append(node.getCommitIndex())
          .append("</td><td class=\"digest mono\">")
          .append(esc(abbreviate(node.getStateDigest())))
          .append("</td><td>")
          .append(node.getKeyCount())
          .append("</td><td class=\"hsm\">");
      if (!reachable) {
        h.append("?");
      } else {
        h.append(node.getHsm().getHealthy() ? "<span class=\"ok\">healthy</span>" : bad("DOWN"))
            .append(" ")
            .append(esc(node.getHsm().getKind()));
      }
      h.append("</td><td>")
          .append(esc(node.hasClock() ? node.getClock().getState() : ""))
          .append("</td><td>");
      String warning = node.getTransportSecurity().getExpiryWarning();
      if (node.getTransportSecurity().hasCertificateNotAfter()) {
        h.append(
            esc(
                Instant.ofEpochSecond(
                        node.getTransportSecurity().getCertificateNotAfter().getSeconds())
                    .toString()));
      }
      if (!warning.isEmpty()) {
        h.append(" ").append(bad(warning));
      }
      h.append("</td><td>")
          .append(node.getError().isEmpty() ? "" : bad(node.getError()))
          .append("</td></tr>");
    }
    h.append("</table>");
    Set<String> digests = new TreeSet<>();
    Set<Long> applied = new TreeSet<>();
    for (NodeStatus node : cluster.getNodesList()) {
      if (node.getRole() != NodeRole.NODE_ROLE_UNREACHABLE) {
        digests.add(node.getStateDigest());
        applied.add(node.getAppliedIndex());
      }
    }
    if (applied.size() == 1 && digests.size() > 1) {
      h.append("<p>").append(bad("Nodes at the same applied index disagree on the state digest"));
      h.append("</p>");
    }
  }

  private static void zones(StringBuilder h, ClusterStatus cluster) {
    Map<String, Set<String>> holders = new TreeMap<>();
    Map<String, Set<String>> versions = new TreeMap<>();
    for (NodeStatus node : cluster.getNodesList()) {
      for (String zone : node.getZonesList()) {
        holders.computeIfAbsent(zone, z -> new TreeSet<>()).add(node.getId());
      }
      node.getZoneMasterKeysList()
          .forEach(
              v ->
                  versions
                      .computeIfAbsent(v.getZone(), z -> new TreeSet<>())
                      .add("v" + v.getVersion()));
    }
    h.append("<h2>Zones</h2><table id=\"zones\"><tr><th>zone</th><th>held by</th>")
        .append("<th>master key versions</th></tr>");
    holders.forEach(
        (zone, nodes) ->
            h.append("<tr class=\"zone\" data-zone=\"")
                .append(esc(zone))
                .append("\"><td>")
                .append(esc(zone))
                .append("</td><td class=\"holders\">")
                .append(esc(String.join(", ", nodes)))
                .append("</td><td>")
                .append(esc(String.join(", ", versions.getOrDefault(zone, Set.of()))))
                .append("</td></tr>"));
    h.append("</table>");
  }

  private static void rotations(StringBuilder h, ClusterStatus cluster, LocalView local) {
    h.append("<h2>Rotations</h2><table id=\"rotations\">")
        .append(row("versions awaiting validation", local.keysAwaitingValidation(), false))
        .append(row("scheduled rotations in flight (this node)", local.rotationsInFlight(), false))
        .append(row("scheduled rotations late (this node)", local.rotationsLate(), true))
        .append(row("scheduled rotations failed (this node)", local.rotationFailures(), true))
        .append("</table>");
    if (!local.bulkRotations().isEmpty()) {
      h.append("<table id=\"bulk\"><tr><th>bulk rotation</th><th>zone</th><th>keys</th>")
          .append("<th>started</th></tr>");
      for (BulkRotationRecord bulk : local.bulkRotations()) {
        h.append("<tr><td class=\"mono\">")
            .append(esc(bulk.getId()))
            .append("</td><td>")
            .append(esc(bulk.getZone()))
            .append("</td><td>")
            .append(bulk.getTotal())
            .append("</td><td>")
            .append(esc(Instant.ofEpochMilli(bulk.getStartTimeUnixMillis()).toString()))
            .append("</td></tr>");
      }
      h.append("</table>");
    }
    Set<String> seen = new TreeSet<>();
    for (NodeStatus node : cluster.getNodesList()) {
      for (ZoneMasterKeyRotation rotation : node.getZoneMasterKeyRotationsList()) {
        if (seen.add(rotation.getZone() + "/" + rotation.getTargetVersion())) {
          h.append("<p>Zone master key rotation of ")
              .append(esc(rotation.getZone()))
              .append(" v")
              .append(rotation.getFromVersion())
              .append(" to v")
              .append(rotation.getTargetVersion())
              .append(": ")
              .append(esc(rotation.getState().name()))
              .append(", ")
              .append(rotation.getRewrapped())
              .append(" rewrapped, ")
              .append(rotation.getRemaining())
              .append(" remaining</p>");
        }
      }
    }
  }

  private static void events(StringBuilder h, LocalView local) {
    h.append("<h2>Recent events</h2>");
    if (local.recentEvents().isEmpty()) {
      h.append("<p class=\"note\">none</p>");
      return;
    }
    h.append("<table id=\"events\"><tr><th>time</th><th>log index</th><th>event</th>")
        .append("<th>version</th><th>origin</th></tr>");
    for (int i = local.recentEvents().size() - 1; i >= 0; i--) {
      KeyEventRecord event = local.recentEvents().get(i);
      KeyEventType type = KeyEventType.forNumber(event.getType());
      h.append("<tr><td>")
          .append(esc(Instant.ofEpochMilli(event.getTimeUnixMillis()).toString()))
          .append("</td><td>")
          .append(event.getLogIndex())
          .append("</td><td>")
          .append(esc(type == null ? "type " + event.getType() : eventName(type)))
          .append("</td><td>")
          .append(event.getVersion())
          .append("</td><td>")
          .append(esc(event.getOriginNode()))
          .append("</td></tr>");
    }
    h.append("</table><p class=\"note\">Key names are not shown here; ")
        .append("<code>keyrotor key history</code> shows them to callers who may read keys.</p>");
  }

  private static void limits(StringBuilder h, ClusterStatus cluster, String nodeId) {
    NodeStatus self =
        cluster.getNodesList().stream()
            .filter(n -> n.getId().equals(nodeId))
            .findFirst()
            .orElse(NodeStatus.getDefaultInstance());
    h.append("<h2>Throttled principals (this node, last minute)</h2>");
    if (self.getThrottledCount() == 0) {
      h.append("<p class=\"note\">none</p>");
    } else {
      h.append("<table id=\"throttled\"><tr><th>principal</th><th>quota</th><th>refused</th></tr>");
      for (ThrottledPrincipal t : self.getThrottledList()) {
        h.append("<tr><td>")
            .append(esc(t.getPrincipal()))
            .append("</td><td>")
            .append(esc(t.getQuota()))
            .append("</td><td>")
            .append(t.getRefused())
            .append("</td></tr>");
      }
      h.append("</table>");
    }
    h.append("<h2>Limits</h2><table id=\"limits\"><tr><th>setting</th><th>value</th></tr>");
    for (LimitStatus limit : self.getLimitsList()) {
      h.append("<tr><td class=\"mono\">")
          .append(esc(limit.getSetting()))
          .append("</td><td>")
          .append(limit.getValue())
          .append("</td></tr>");
    }
    h.append("</table>");
  }

  private static String row(String name, long value, boolean alarming) {
    return "<tr><th>"
        + esc(name)
        + "</th><td>"
        + (alarming && value > 0 ? bad(Long.toString(value)) : Long.toString(value))
        + "</td></tr>";
  }

  private static String roleName(NodeRole role) {
    return role.name().replace("NODE_ROLE_", "");
  }

  private static String eventName(KeyEventType type) {
    return type.name().replace("KEY_EVENT_TYPE_", "");
  }

  private static String abbreviate(String digest) {
    return digest.length() > 16 ? digest.substring(0, 16) + "…" : digest;
  }

  private static String bad(String text) {
    return "<span class=\"bad\">" + esc(text) + "</span>";
  }

  /**
   * HTML-escapes {@code text} for element content and quoted attribute values: {@code < > & " '}
   * become character references (Guava's HTML escaper).
   */
  static String esc(String text) {
    return HtmlEscapers.htmlEscaper().escape(text);
  }
}
