package io.keyrotor.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.keyrotor.api.v1.ComplianceEvidence;
import io.keyrotor.api.v1.ComplianceFinding;
import io.keyrotor.api.v1.ComplianceReportChunk;
import io.keyrotor.api.v1.ComplianceReportHeader;
import io.keyrotor.api.v1.ComplianceReportSummary;
import io.keyrotor.api.v1.FindingCount;
import io.keyrotor.api.v1.FindingKind;
import io.keyrotor.api.v1.KeyCompliance;
import io.keyrotor.api.v1.NodeResidency;
import io.keyrotor.api.v1.PolicyTemplate;
import io.keyrotor.api.v1.RetiredVersion;
import io.keyrotor.api.v1.TemplateCount;
import io.keyrotor.api.v1.ZoneResidency;
import java.util.ArrayList;
import java.util.List;

/**
 * A compliance report as the stream delivered it (header, keys, summary), and its JSON form. The
 * JSON is stable: members in a fixed order, keys in name order, findings in kind order, unset
 * values {@code null}, times RFC 3339 in UTC and durations as {@code 90d}, so two reports of the
 * same state at the same time are the same bytes.
 */
record ComplianceReport(
    ComplianceReportHeader header, List<KeyCompliance> keys, ComplianceReportSummary summary) {

  /** One exception: a finding of a key, with the key's owner. */
  record ExceptionRow(KeyCompliance key, ComplianceFinding finding) {}

  /** The report the chunks make; a stream without its header or summary is refused. */
  static ComplianceReport of(List<ComplianceReportChunk> chunks) {
    ComplianceReportHeader header = null;
    ComplianceReportSummary summary = null;
    List<KeyCompliance> keys = new ArrayList<>();
    for (ComplianceReportChunk chunk : chunks) {
      switch (chunk.getPartCase()) {
        case HEADER -> header = chunk.getHeader();
        case KEYS -> keys.addAll(chunk.getKeys().getKeysList());
        case SUMMARY -> summary = chunk.getSummary();
        default -> {}
      }
    }
    if (header == null || summary == null) {
      throw new CliException("the server's compliance report ended early (no header or summary)");
    }
    return new ComplianceReport(header, List.copyOf(keys), summary);
  }

  /** Every finding of every key, keys in name order: the exceptions, listed first by the views. */
  List<ExceptionRow> exceptions() {
    List<ExceptionRow> rows = new ArrayList<>();
    for (KeyCompliance key : keys) {
      for (ComplianceFinding finding : key.getFindingsList()) {
        rows.add(new ExceptionRow(key, finding));
      }
    }
    return rows;
  }

  /** {@code FINDING_KIND_ROTATION_LATE} becomes {@code ROTATION_LATE}. */
  static String kindName(FindingKind kind) {
    return kind.name().replaceFirst("^FINDING_KIND_", "");
  }

  /**
   * {@code {"applied_index","applied_term","state_digest","evaluated_time","node_id",
   * "template_filter","retired_decrypt_after","summary","exceptions","keys","nodes","zones",
   * "templates","audit_chain","destruction_receipts"}}.
   */
  JsonObject json() {
    JsonObject json = new JsonObject();
    json.addProperty("applied_index", header.getAppliedIndex());
    json.addProperty("applied_term", header.getAppliedTerm());
    json.addProperty("state_digest", header.getStateDigest());
    json.add(
        "evaluated_time", JsonOutput.time(header.hasEvaluatedTime(), header.getEvaluatedTime()));
    json.addProperty("node_id", header.getNodeId());
    json.add("template_filter", JsonOutput.textOrNull(header.getTemplateFilter()));
    json.add(
        "retired_decrypt_after",
        JsonOutput.duration(header.hasRetiredDecryptAfter(), header.getRetiredDecryptAfter()));
    json.add("summary", summaryJson());
    JsonArray exceptions = new JsonArray();
    for (ExceptionRow row : exceptions()) {
      JsonObject e = new JsonObject();
      e.addProperty("key", row.key().getName());
      e.add("owner", JsonOutput.textOrNull(row.key().getOwner()));
      e.addProperty("zone", row.key().getZone());
      e.add("template", JsonOutput.textOrNull(row.key().getTemplate()));
      e.addProperty("finding", kindName(row.finding().getKind()));
      e.addProperty("version", row.finding().getVersion());
      e.addProperty("detail", row.finding().getDetail());
      exceptions.add(e);
    }
    json.add("exceptions", exceptions);
    JsonArray keyArray = new JsonArray();
    keys.forEach(k -> keyArray.add(keyJson(k)));
    json.add("keys", keyArray);
    JsonArray nodes = new JsonArray();
    header.getNodesList().forEach(n -> nodes.add(nodeJson(n)));
    json.add("nodes", nodes);
    JsonArray zones = new JsonArray();
    for (ZoneResidency zone : header.getZonesList()) {
      JsonObject z = new JsonObject();
      z.addProperty("zone", zone.getZone());
      z.add("nodes", JsonOutput.strings(zone.getNodeIdsList()));
      z.addProperty("keys", zone.getKeys());
      zones.add(z);
    }
    json.add("zones", zones);
    JsonArray templates = new JsonArray();
    for (PolicyTemplate template : header.getTemplatesList()) {
      JsonObject t = new JsonObject();
      t.addProperty("name", template.getName());
      t.add("policy", JsonOutput.policy(template.getPolicy()));
      t.add("allowed_zones", JsonOutput.strings(template.getAllowedZonesList()));
      t.addProperty("source", template.getSource());
      templates.add(t);
    }
    json.add("templates", templates);
    json.add("audit_chain", evidence(header.getAuditChain()));
    json.add("destruction_receipts", evidence(header.getDestructionReceipts()));
    return json;
  }

  private JsonObject summaryJson() {
    JsonObject json = new JsonObject();
    json.addProperty("keys", summary.getKeys());
    json.addProperty("exceptions", summary.getExceptions());
    JsonObject findings = new JsonObject();
    for (FindingCount count : summary.getFindingsList()) {
      findings.addProperty(kindName(count.getKind()), count.getKeys());
    }
    json.add("findings", findings);
    JsonArray templates = new JsonArray();
    for (TemplateCount count : summary.getTemplatesList()) {
      JsonObject t = new JsonObject();
      t.add("template", JsonOutput.textOrNull(count.getTemplate()));
      t.addProperty("keys", count.getKeys());
      templates.add(t);
    }
    json.add("templates", templates);
    return json;
  }

  private static JsonObject keyJson(KeyCompliance key) {
    JsonObject json = new JsonObject();
    json.addProperty("name", key.getName());
    json.addProperty("zone", key.getZone());
    json.add("owner", JsonOutput.textOrNull(key.getOwner()));
    json.add("template", JsonOutput.textOrNull(key.getTemplate()));
    json.add("policy", JsonOutput.policy(key.getPolicy()));
    json.addProperty("primary_version", key.getPrimaryVersion());
    json.add(
        "last_rotation_time",
        JsonOutput.time(key.hasLastRotationTime(), key.getLastRotationTime()));
    json.add("primary_age", JsonOutput.duration(key.hasPrimaryAge(), key.getPrimaryAge()));
    json.add(
        "next_rotation_time",
        JsonOutput.time(key.hasNextRotationTime(), key.getNextRotationTime()));
    json.addProperty("primary_encryptions", key.getPrimaryEncryptions());
    json.addProperty("primary_encryption_limit", key.getPrimaryEncryptionLimit());
    JsonArray retired = new JsonArray();
    for (RetiredVersion version : key.getRetiredVersionsList()) {
      JsonObject v = new JsonObject();
      v.addProperty("version", version.getVersion());
      v.add("retired_time", JsonOutput.time(version.hasRetiredTime(), version.getRetiredTime()));
      v.addProperty("encryptions", version.getEncryptions());
      v.addProperty("state", JsonOutput.stateName(version.getState()));
      v.add("retired_for", JsonOutput.duration(version.hasRetiredFor(), version.getRetiredFor()));
      v.addProperty("data_keys_issued", version.getDataKeysIssued());
      v.addProperty("data_keys_rewrapped_away", version.getDataKeysRewrappedAway());
      v.addProperty("data_keys_outstanding", version.getDataKeysOutstanding());
      retired.add(v);
    }
    json.add("retired_versions", retired);
    JsonArray findings = new JsonArray();
    for (ComplianceFinding finding : key.getFindingsList()) {
      JsonObject f = new JsonObject();
      f.addProperty("finding", kindName(finding.getKind()));
      f.addProperty("version", finding.getVersion());
      f.addProperty("detail", finding.getDetail());
      findings.add(f);
    }
    json.add("findings", findings);
    json.add("zone_nodes", JsonOutput.strings(key.getZoneNodesList()));
    JsonArray receipts = new JsonArray();
    key.getDestructionReceiptsList().forEach(r -> receipts.add(ReceiptJson.json(r)));
    json.add("destruction_receipts", receipts);
    return json;
  }

  private static JsonObject nodeJson(NodeResidency node) {
    JsonObject json = new JsonObject();
    json.addProperty("id", node.getNodeId());
    json.addProperty("region", node.getRegion());
    json.add("zones", JsonOutput.strings(node.getZonesList()));
    JsonObject hsm = new JsonObject();
    hsm.addProperty("kind", node.getHsmKind());
    hsm.add("module", JsonOutput.textOrNull(node.getHsmModule()));
    hsm.add("token_label", JsonOutput.textOrNull(node.getHsmTokenLabel()));
    hsm.add("mechanisms", JsonOutput.strings(node.getHsmMechanismsList()));
    hsm.addProperty("description", node.getHsmDescription());
    json.add("hsm", hsm);
    json.add(
        "registered_time", JsonOutput.time(node.hasRegisteredTime(), node.getRegisteredTime()));
    return json;
  }

  private static JsonObject evidence(ComplianceEvidence evidence) {
    JsonObject json = new JsonObject();
    json.addProperty("state", evidence.getState());
    json.addProperty("detail", evidence.getDetail());
    return json;
  }

  /** The report as text: the summary, the exceptions, then one line per key. */
  String text() {
    StringBuilder out = new StringBuilder();
    out.append("Compliance report of node ")
        .append(header.getNodeId())
        .append(" at applied index ")
        .append(header.getAppliedIndex())
        .append(", evaluated ")
        .append(JsonOutput.timeText(header.getEvaluatedTime()))
        .append('\n');
    out.append(summary.getKeys())
        .append(" keys, ")
        .append(summary.getExceptions())
        .append(" with exceptions\n");
    List<ExceptionRow> rows = exceptions();
    if (!rows.isEmpty()) {
      out.append("\nEXCEPTIONS\n");
      for (ExceptionRow row : rows) {
        out.append(
            String.format(
                "%-24s %-12s %-26s %s%n",
                row.key().getName(),
                row.key().getOwner().isEmpty() ? "-" : row.key().getOwner(),
                kindName(row.finding().getKind()),
                row.finding().getDetail()));
      }
    }
    out.append("\nKEYS\n");
    for (KeyCompliance key : keys) {
      out.append(
          String.format(
              "%-24s %-10s %-22s v%-4d %s/%s encryptions%n",
              key.getName(),
              key.getZone(),
              key.getTemplate().isEmpty() ? "(no template)" : key.getTemplate(),
              key.getPrimaryVersion(),
              key.getPrimaryEncryptions(),
              key.getPrimaryEncryptionLimit()));
    }
    return out.toString();
  }
}
