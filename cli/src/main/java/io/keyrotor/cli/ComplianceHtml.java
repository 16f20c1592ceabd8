package io.keyrotor.cli;

import io.keyrotor.api.v1.ComplianceEvidence;
import io.keyrotor.api.v1.ComplianceReportHeader;
import io.keyrotor.api.v1.FindingCount;
import io.keyrotor.api.v1.KeyCompliance;
import io.keyrotor.api.v1.NodeResidency;
import io.keyrotor.api.v1.PolicyTemplate;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.ZoneResidency;
import io.keyrotor.client.Durations;
import java.time.Duration;
import java.util.List;

/**
 * The compliance report as one self-contained HTML page (styles inline, no scripts, fonts or images
 * from elsewhere): the summary at the top, the exceptions first, then the keys, zone residency, the
 * nodes' HSMs, the templates with their sources and the evidence not covered yet. Every text from
 * the server is escaped. Elements a reader or a test looks for carry ids: {@code summary}, {@code
 * count-keys}, {@code count-exceptions}, {@code exceptions}, {@code keys}, {@code
 * retired-versions}, {@code destruction-receipts}, {@code zones}, {@code nodes}, {@code templates},
 * {@code evidence}.
 */
final class ComplianceHtml {
  private static final String STYLE =
      "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;"
          + "max-width:72rem;padding:0 1rem;color:#1d2330;background:#fff}"
          + "h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;"
          + "border-bottom:2px solid #e3e7ee;padding-bottom:.3rem}"
          + ".meta{color:#5b6475;font-size:.9rem}"
          + ".cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1.2rem 0}"
          + ".card{border:1px solid #e3e7ee;border-radius:8px;padding:.7rem 1rem;min-width:9rem}"
          + ".card .n{font-size:1.8rem;font-weight:600}.card.bad{border-color:#e8a3a3;"
          + "background:#fdf2f2}.card.ok{border-color:#9fd3b0;background:#f1faf4}"
          + "table{border-collapse:collapse;width:100%;font-size:.9rem}"
          + "th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e7ee;"
          + "vertical-align:top}th{background:#f5f7fa}"
          + "tr.exception td{background:#fffaf0}.kind{font-family:ui-monospace,monospace;"
          + "font-size:.85rem;white-space:nowrap}.none{color:#8a93a3}"
          + ".ok-text{color:#1f7a3d}.source{font-size:.85rem;color:#3b4252}";

  private ComplianceHtml() {}

  /** The page. */
  static String render(ComplianceReport report) {
    ComplianceReportHeader header = report.header();
    StringBuilder out = new StringBuilder(16_384);
    out.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
        .append("<title>keyrotor compliance report</title><style>")
        .append(STYLE)
        .append("</style></head><body>\n");
    out.append("<h1>keyrotor compliance report</h1>\n<p class=\"meta\">Node ")
        .append(esc(header.getNodeId()))
        .append(" &middot; applied index <span id=\"applied-index\">")
        .append(header.getAppliedIndex())
        .append("</span> (term ")
        .append(header.getAppliedTerm())
        .append(") &middot; evaluated ")
        .append(esc(JsonOutput.timeText(header.getEvaluatedTime())))
        .append(
            header.getTemplateFilter().isEmpty()
                ? ""
                : " &middot; template " + esc(header.getTemplateFilter()))
        .append("<br>State digest <code>")
        .append(esc(header.getStateDigest()))
        .append("</code></p>\n");
    summary(report, out);
    exceptions(report, out);
    keys(report, out);
    ComplianceHtmlVersions.retiredVersions(report, out);
    ComplianceHtmlVersions.destructionReceipts(report, out);
    zones(header, out);
    nodes(header, out);
    templates(header, out);
    evidence(header, out);
    out.append("</body></html>\n");
    return out.toString();
  }

  private static void summary(ComplianceReport report, StringBuilder out) {
    long exceptions = report.summary().getExceptions();
    out.append("<section id=\"summary\"><div class=\"cards\">")
        .append(card("count-keys", "keys", report.summary().getKeys(), ""))
        .append(
            card(
                "count-exceptions",
                "keys with exceptions",
                exceptions,
                exceptions == 0 ? "ok" : "bad"));
    for (FindingCount count : report.summary().getFindingsList()) {
      String kind = ComplianceReport.kindName(count.getKind());
      out.append(
          card(
              "count-" + kind,
              kind.replace('_', ' ').toLowerCase(java.util.Locale.ROOT),
              count.getKeys(),
              "bad"));
    }
    out.append("</div></section>\n");
  }

  private static String card(String id, String label, long value, String tone) {
    return "<div class=\"card "
        + tone
        + "\" id=\""
        + esc(id)
        + "\"><div class=\"n\">"
        + value
        + "</div><div>"
        + esc(label)
        + "</div></div>";
  }

  private static void exceptions(ComplianceReport report, StringBuilder out) {
    out.append("<h2>Exceptions</h2>\n");
    List<ComplianceReport.ExceptionRow> rows = report.exceptions();
    if (rows.isEmpty()) {
      out.append("<p class=\"ok-text\" id=\"exceptions\">No exceptions: every key complies.</p>\n");
      return;
    }
    out.append("<table id=\"exceptions\"><thead><tr><th>Key</th><th>Owner</th><th>Zone</th>")
        .append("<th>Template</th><th>Finding</th><th>Version</th><th>Detail</th></tr></thead>")
        .append("<tbody>\n");
    for (ComplianceReport.ExceptionRow row : rows) {
      out.append("<tr class=\"exception\"><td>")
          .append(esc(row.key().getName()))
          .append("</td><td>")
          .append(orNone(row.key().getOwner()))
          .append("</td><td>")
          .append(esc(row.key().getZone()))
          .append("</td><td>")
          .append(orNone(row.key().getTemplate()))
          .append("</td><td class=\"kind\">")
          .append(esc(ComplianceReport.kindName(row.finding().getKind())))
          .append("</td><td>")
          .append(row.finding().getVersion() == 0 ? "" : "v" + row.finding().getVersion())
          .append("</td><td>")
          .append(esc(row.finding().getDetail()))
          .append("</td></tr>\n");
    }
    out.append("</tbody></table>\n");
  }

  private static void keys(ComplianceReport report, StringBuilder out) {
    out.append("<h2>Keys</h2>\n<table id=\"keys\"><thead><tr><th>Key</th><th>Owner</th>")
        .append("<th>Zone</th><th>Template</th><th>Primary</th><th>Last rotation</th>")
        .append("<th>Cryptoperiod so far</th><th>Rotation period</th><th>Next rotation</th>")
        .append("<th>Encryptions / limit</th><th>Retired, still decrypting</th>")
        .append("<th>Status</th></tr></thead><tbody>\n");
    for (KeyCompliance key : report.keys()) {
      RotationPolicy policy = key.getPolicy();
      out.append(key.getFindingsCount() > 0 ? "<tr class=\"exception\">" : "<tr>")
          .append("<td>")
          .append(esc(key.getName()))
          .append("</td><td>")
          .append(orNone(key.getOwner()))
          .append("</td><td>")
          .append(esc(key.getZone()))
          .append("</td><td>")
          .append(orNone(key.getTemplate()))
          .append("</td><td>v")
          .append(key.getPrimaryVersion())
          .append("</td><td>")
          .append(
              key.hasLastRotationTime() ? esc(JsonOutput.timeText(key.getLastRotationTime())) : "")
          .append("</td><td>")
          .append(key.hasPrimaryAge() ? esc(duration(key.getPrimaryAge())) : "")
          .append("</td><td>")
          .append(policy.hasRotationPeriod() ? esc(duration(policy.getRotationPeriod())) : none())
          .append("</td><td>")
          .append(
              key.hasNextRotationTime() ? esc(JsonOutput.timeText(key.getNextRotationTime())) : "")
          .append("</td><td>")
          .append(key.getPrimaryEncryptions())
          .append(" / ")
          .append(key.getPrimaryEncryptionLimit())
          .append("</td><td>");
      key.getRetiredVersionsList().forEach(v -> out.append("v").append(v.getVersion()).append(' '));
      out.append("</td><td>")
          .append(
              key.getFindingsCount() == 0
                  ? "<span class=\"ok-text\">complies</span>"
                  : key.getFindingsCount() + " exception(s)")
          .append("</td></tr>\n");
    }
    out.append("</tbody></table>\n");
  }

  private static void zones(ComplianceReportHeader header, StringBuilder out) {
    out.append("<h2>Zone residency</h2>\n<table id=\"zones\"><thead><tr><th>Zone</th>")
        .append("<th>Nodes holding it</th><th>Keys</th></tr></thead><tbody>\n");
    for (ZoneResidency zone : header.getZonesList()) {
      out.append("<tr><td>")
          .append(esc(zone.getZone()))
          .append("</td><td>")
          .append(
              zone.getNodeIdsCount() == 0
                  ? "<span class=\"none\">none</span>"
                  : esc(String.join(", ", zone.getNodeIdsList())))
          .append("</td><td>")
          .append(zone.getKeys())
          .append("</td></tr>\n");
    }
    out.append("</tbody></table>\n");
  }

  private static void nodes(ComplianceReportHeader header, StringBuilder out) {
    out.append("<h2>Nodes and their HSMs</h2>\n<table id=\"nodes\"><thead><tr><th>Node</th>")
        .append("<th>Region</th><th>Zones</th><th>HSM</th><th>Module</th><th>Token</th>")
        .append("<th>Mechanisms</th></tr></thead><tbody>\n");
    for (NodeResidency node : header.getNodesList()) {
      out.append("<tr><td>")
          .append(esc(node.getNodeId()))
          .append("</td><td>")
          .append(esc(node.getRegion()))
          .append("</td><td>")
          .append(esc(String.join(", ", node.getZonesList())))
          .append("</td><td>")
          .append(esc(node.getHsmKind()))
          .append("</td><td>")
          .append(orNone(node.getHsmModule()))
          .append("</td><td>")
          .append(orNone(node.getHsmTokenLabel()))
          .append("</td><td>")
          .append(esc(String.join(", ", node.getHsmMechanismsList())))
          .append("</td></tr>\n");
    }
    out.append("</tbody></table>\n");
  }

  private static void templates(ComplianceReportHeader header, StringBuilder out) {
    out.append("<h2>Policy templates</h2>\n<table id=\"templates\"><thead><tr><th>Template</th>")
        .append("<th>Period</th><th>Encryption limit</th><th>Decrypt grace</th>")
        .append("<th>Destroy wait</th><th>Validation</th><th>Zones</th><th>Source</th></tr>")
        .append("</thead><tbody>\n");
    for (PolicyTemplate template : header.getTemplatesList()) {
      RotationPolicy policy = template.getPolicy();
      out.append("<tr><td>")
          .append(esc(template.getName()))
          .append("</td><td>")
          .append(esc(duration(policy.getRotationPeriod())))
          .append("</td><td>")
          .append(policy.getMaxEncryptions())
          .append("</td><td>")
          .append(esc(duration(policy.getDecryptGrace())))
          .append("</td><td>")
          .append(esc(duration(policy.getDestroyWaitingPeriod())))
          .append("</td><td>")
          .append(policy.getRequireValidation() ? "required" : "optional")
          .append("</td><td>")
          .append(
              template.getAllowedZonesCount() == 0
                  ? "any"
                  : esc(String.join(", ", template.getAllowedZonesList())))
          .append("</td><td class=\"source\">")
          .append(esc(template.getSource()))
          .append("</td></tr>\n");
    }
    out.append("</tbody></table>\n");
  }

  private static void evidence(ComplianceReportHeader header, StringBuilder out) {
    out.append("<h2>Evidence not covered here</h2>\n<table id=\"evidence\"><tbody>\n")
        .append(evidenceRow("Audit chain verification", header.getAuditChain()))
        .append(evidenceRow("Destruction receipts", header.getDestructionReceipts()))
        .append("</tbody></table>\n");
  }

  private static String evidenceRow(String what, ComplianceEvidence evidence) {
    return "<tr><td>"
        + esc(what)
        + "</td><td class=\"kind\">"
        + esc(evidence.getState())
        + "</td><td>"
        + esc(evidence.getDetail())
        + "</td></tr>\n";
  }

  static String duration(com.google.protobuf.Duration duration) {
    return Durations.format(Duration.ofSeconds(duration.getSeconds(), duration.getNanos()));
  }

  private static String none() {
    return "<span class=\"none\">none</span>";
  }

  static String orNone(String text) {
    return text.isEmpty() ? none() : esc(text);
  }

  /** {@code text} safe in HTML element content and attribute values. */
  static String esc(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
