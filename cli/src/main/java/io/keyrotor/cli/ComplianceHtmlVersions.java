package io.keyrotor.cli;

import static io.keyrotor.cli.ComplianceHtml.esc;

import io.keyrotor.api.v1.ComplianceEvidence;
import io.keyrotor.api.v1.ComplianceFinding;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.DestructionReceiptSignature;
import io.keyrotor.api.v1.FindingKind;
import io.keyrotor.api.v1.KeyCompliance;
import io.keyrotor.api.v1.RetiredVersion;

/**
 * The compliance page's sections about old versions: the retired versions still in use, with the
 * data keys each still has outstanding (table {@code retired-versions}), and the destruction
 * receipts of destroyed versions (table {@code destruction-receipts}, or a paragraph with that id
 * when there are none). Every text from the server is escaped.
 */
final class ComplianceHtmlVersions {
  private ComplianceHtmlVersions() {}

  static void retiredVersions(ComplianceReport report, StringBuilder out) {
    out.append("<h2>Retired versions still in use</h2>\n<p class=\"meta\">Data keys issued")
        .append(" under each version, rewrapped away to a newer one, and still outstanding, as")
        .append(" the nodes reported them through the log.</p>\n");
    boolean any = report.keys().stream().anyMatch(k -> k.getRetiredVersionsCount() > 0);
    if (!any) {
      out.append(
          "<p class=\"ok-text\" id=\"retired-versions\">No retired version is in use.</p>\n");
      return;
    }
    out.append("<table id=\"retired-versions\"><thead><tr><th>Key</th><th>Owner</th>")
        .append("<th>Version</th><th>State</th><th>Retired</th><th>Retired for</th>")
        .append("<th>Data keys issued</th><th>Rewrapped away</th><th>Outstanding</th>")
        .append("<th>Status</th></tr></thead><tbody>\n");
    for (KeyCompliance key : report.keys()) {
      for (RetiredVersion v : key.getRetiredVersionsList()) {
        boolean exception = isException(key, v.getVersion());
        out.append(exception ? "<tr class=\"exception\">" : "<tr>")
            .append("<td>")
            .append(esc(key.getName()))
            .append("</td><td>")
            .append(ComplianceHtml.orNone(key.getOwner()))
            .append("</td><td>v")
            .append(v.getVersion())
            .append("</td><td class=\"kind\">")
            .append(esc(JsonOutput.stateName(v.getState())))
            .append("</td><td>")
            .append(v.hasRetiredTime() ? esc(JsonOutput.timeText(v.getRetiredTime())) : "")
            .append("</td><td>")
            .append(v.hasRetiredFor() ? esc(ComplianceHtml.duration(v.getRetiredFor())) : "")
            .append("</td><td>")
            .append(v.getDataKeysIssued())
            .append("</td><td>")
            .append(v.getDataKeysRewrappedAway())
            .append("</td><td>")
            .append(v.getDataKeysOutstanding())
            .append("</td><td>")
            .append(exception ? "exception" : "<span class=\"ok-text\">within grace</span>")
            .append("</td></tr>\n");
      }
    }
    out.append("</tbody></table>\n");
  }

  static void destructionReceipts(ComplianceReport report, StringBuilder out) {
    ComplianceEvidence evidence = report.header().getDestructionReceipts();
    out.append("<h2>Destruction receipts</h2>\n<p class=\"meta\">Signatures: ")
        .append("<span class=\"kind\" id=\"receipts-state\">")
        .append(esc(evidence.getState()))
        .append("</span> ")
        .append(esc(evidence.getDetail()))
        .append(". Prove one offline with <code>keyrotor key receipt KEY VERSION --json</code>")
        .append(" and <code>keyrotor audit verify-receipt FILE --trust KEYS</code>.</p>\n");
    boolean any = report.keys().stream().anyMatch(k -> k.getDestructionReceiptsCount() > 0);
    if (!any) {
      out.append("<p class=\"none\" id=\"destruction-receipts\">No version was destroyed.</p>\n");
      return;
    }
    out.append("<table id=\"destruction-receipts\"><thead><tr><th>Key</th><th>Version</th>")
        .append("<th>Zone</th><th>Destroyed</th><th>Scheduled for</th><th>Scheduled by</th>")
        .append("<th>Log index</th><th>Audit record hash</th><th>Signature</th></tr></thead>")
        .append("<tbody>\n");
    for (KeyCompliance key : report.keys()) {
      for (DestructionReceipt r : key.getDestructionReceiptsList()) {
        out.append("<tr><td>")
            .append(esc(r.getName()))
            .append("</td><td>v")
            .append(Integer.toUnsignedLong(r.getVersion()))
            .append("</td><td>")
            .append(esc(r.getZone()))
            .append("</td><td>")
            .append(esc(JsonOutput.timeText(r.getDestroyedTime())))
            .append("</td><td>")
            .append(esc(JsonOutput.timeText(r.getScheduledDestroyTime())))
            .append("</td><td>")
            .append(ComplianceHtml.orNone(r.getScheduledBy()))
            .append("</td><td>")
            .append(r.getLogIndex())
            .append("</td><td class=\"kind\">")
            .append(esc(r.getAuditRecordHash()))
            .append("</td><td>")
            .append(signature(r))
            .append("</td></tr>\n");
      }
    }
    out.append("</tbody></table>\n");
  }

  private static String signature(DestructionReceipt receipt) {
    if (!receipt.hasSignature()) {
      return "<span class=\"none\">not signed yet</span>";
    }
    DestructionReceiptSignature s = receipt.getSignature();
    return esc(
        "signed by "
            + s.getSignerNode()
            + " (audit key v"
            + Integer.toUnsignedLong(s.getKeyVersion())
            + ") at index "
            + s.getRecordedIndex());
  }

  private static boolean isException(KeyCompliance key, int version) {
    for (ComplianceFinding f : key.getFindingsList()) {
      if (f.getVersion() == version
          && (f.getKind() == FindingKind.FINDING_KIND_DATA_KEYS_OUTSTANDING
              || f.getKind() == FindingKind.FINDING_KIND_RETIRED_VERSION_DECRYPTS)) {
        return true;
      }
    }
    return false;
  }
}
