package io.keyrotor.cli;

import static io.keyrotor.cli.JsonFields.base64;
import static io.keyrotor.cli.JsonFields.hex;
import static io.keyrotor.cli.JsonFields.number;
import static io.keyrotor.cli.JsonFields.string;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.AuditExportItem;
import io.keyrotor.api.v1.AuditHashOnly;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.AuditRecord;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;

/**
 * The lines of an audit export (JSON Lines), one object a line:
 *
 * <ul>
 *   <li>{@code {"type":"record", "log_index":..., "time_unix_millis":..., "request_id", ...}}: a
 *       record, every field of {@code keyrotor.v1.AuditRecord} (hashes in hex, keys and signatures
 *       in base64, a signed destruction receipt as {@link ReceiptJson} writes it), so its hash can
 *       be recomputed;
 *   <li>{@code {"type":"hash", "log_index", "previous_hash", "hash"}}: a record left out by the
 *       export's filters;
 *   <li>{@code {"type":"checkpoint", "record_index", "checkpoint": {...}}}: the signed head the
 *       export ends at, after the records.
 * </ul>
 *
 * Parsing is strict (an unknown field is refused), so a line cannot carry text the hash does not
 * cover.
 */
final class AuditJson {
  private static final HexFormat HEX = HexFormat.of();
  private static final Set<String> RECORD_FIELDS =
      Set.of(
          "type",
          "log_index",
          "time_unix_millis",
          "request_id",
          "proposer_node",
          "action",
          "key_name",
          "version",
          "result_code",
          "result_reason",
          "previous_hash",
          "hash",
          "detail",
          "principal",
          "audit_key",
          "checkpoint",
          "destruction_receipt",
          "batch_position");

  private AuditJson() {}

  static JsonObject item(AuditExportItem item) {
    if (item.hasHashOnly()) {
      AuditHashOnly h = item.getHashOnly();
      JsonObject o = new JsonObject();
      o.addProperty("type", "hash");
      o.addProperty("log_index", h.getLogIndex());
      o.addProperty("previous_hash", HEX.formatHex(h.getPreviousHash().toByteArray()));
      o.addProperty("hash", HEX.formatHex(h.getHash().toByteArray()));
      return o;
    }
    return record(item.getRecord());
  }

  static JsonObject record(AuditRecord r) {
    JsonObject o = new JsonObject();
    o.addProperty("type", "record");
    o.addProperty("log_index", r.getLogIndex());
    o.addProperty("time_unix_millis", r.getTimeUnixMillis());
    o.addProperty("request_id", r.getRequestId());
    o.addProperty("proposer_node", r.getProposerNode());
    o.addProperty("action", r.getAction());
    o.addProperty("key_name", r.getKeyName());
    o.addProperty("version", r.getVersion());
    o.addProperty("result_code", r.getResultCode());
    o.addProperty("result_reason", r.getResultReason());
    o.addProperty("previous_hash", HEX.formatHex(r.getPreviousHash().toByteArray()));
    o.addProperty("hash", HEX.formatHex(r.getHash().toByteArray()));
    o.addProperty("detail", r.getDetail());
    o.addProperty("principal", r.getPrincipal());
    if (r.hasAuditKey()) {
      o.add("audit_key", key(r.getAuditKey()));
    }
    if (r.hasCheckpoint()) {
      o.add("checkpoint", checkpoint(r.getCheckpoint()));
    }
    if (r.hasDestructionReceipt()) {
      o.add("destruction_receipt", ReceiptJson.json(r.getDestructionReceipt()));
    }
    if (r.getBatchPosition() != 0) {
      // Part of what the record's hash covers: a group-committed command after the first.
      o.addProperty("batch_position", r.getBatchPosition());
    }
    return o;
  }

  static JsonObject closing(AuditCheckpoint checkpoint, long recordIndex) {
    JsonObject o = new JsonObject();
    o.addProperty("type", "checkpoint");
    o.addProperty("record_index", recordIndex);
    o.add("checkpoint", checkpoint(checkpoint));
    return o;
  }

  static JsonObject key(AuditKeyRegistration k) {
    JsonObject o = new JsonObject();
    o.addProperty("node", k.getNode());
    o.addProperty("key_version", k.getKeyVersion());
    o.addProperty("public_key", Base64.getEncoder().encodeToString(k.getPublicKey().toByteArray()));
    return o;
  }

  static JsonObject checkpoint(AuditCheckpoint c) {
    JsonObject o = new JsonObject();
    o.addProperty("log_index", c.getLogIndex());
    o.addProperty("head", HEX.formatHex(c.getHead().toByteArray()));
    o.addProperty("signer_node", c.getSignerNode());
    o.addProperty("key_version", c.getKeyVersion());
    o.addProperty("signature", Base64.getEncoder().encodeToString(c.getSignature().toByteArray()));
    return o;
  }

  /** One parsed line: an item or a closing checkpoint. */
  record Line(AuditExportItem itemOrNull, AuditCheckpoint closingOrNull) {}

  /**
   * Parses one line.
   *
   * @throws IllegalArgumentException saying what is wrong with it
   */
  static Line parse(String line) {
    JsonElement element;
    try {
      element = JsonParser.parseString(line);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not JSON");
    }
    if (!element.isJsonObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    JsonObject o = element.getAsJsonObject();
    String type = string(o, "type");
    switch (type) {
      case "record" -> {
        for (String name : o.keySet()) {
          if (!RECORD_FIELDS.contains(name)) {
            throw new IllegalArgumentException("unknown field \"" + name + "\"");
          }
        }
        AuditRecord.Builder r =
            AuditRecord.newBuilder()
                .setLogIndex(number(o, "log_index"))
                .setTimeUnixMillis(number(o, "time_unix_millis"))
                .setRequestId(string(o, "request_id"))
                .setProposerNode(string(o, "proposer_node"))
                .setAction(string(o, "action"))
                .setKeyName(string(o, "key_name"))
                .setVersion((int) number(o, "version"))
                .setResultCode((int) number(o, "result_code"))
                .setResultReason(string(o, "result_reason"))
                .setPreviousHash(hex(o, "previous_hash"))
                .setHash(hex(o, "hash"))
                .setDetail(string(o, "detail"))
                .setPrincipal(string(o, "principal"));
        if (o.has("audit_key")) {
          JsonObject k = o.getAsJsonObject("audit_key");
          r.setAuditKey(
              AuditKeyRegistration.newBuilder()
                  .setNode(string(k, "node"))
                  .setKeyVersion((int) number(k, "key_version"))
                  .setPublicKey(base64(k, "public_key")));
        }
        if (o.has("checkpoint")) {
          r.setCheckpoint(parseCheckpoint(o.getAsJsonObject("checkpoint")));
        }
        if (o.has("destruction_receipt")) {
          if (!o.get("destruction_receipt").isJsonObject()) {
            throw new IllegalArgumentException("\"destruction_receipt\" is not an object");
          }
          r.setDestructionReceipt(ReceiptJson.parse(o.getAsJsonObject("destruction_receipt")));
        }
        if (o.has("batch_position")) {
          r.setBatchPosition((int) number(o, "batch_position"));
        }
        return new Line(AuditExportItem.newBuilder().setRecord(r).build(), null);
      }
      case "hash" -> {
        return new Line(
            AuditExportItem.newBuilder()
                .setHashOnly(
                    AuditHashOnly.newBuilder()
                        .setLogIndex(number(o, "log_index"))
                        .setPreviousHash(hex(o, "previous_hash"))
                        .setHash(hex(o, "hash")))
                .build(),
            null);
      }
      case "checkpoint" -> {
        return new Line(null, parseCheckpoint(o.getAsJsonObject("checkpoint")));
      }
      default -> throw new IllegalArgumentException("unknown type \"" + type + "\"");
    }
  }

  private static AuditCheckpoint parseCheckpoint(JsonObject c) {
    if (c == null) {
      throw new IllegalArgumentException("\"checkpoint\" is missing");
    }
    return AuditCheckpoint.newBuilder()
        .setLogIndex(number(c, "log_index"))
        .setHead(hex(c, "head"))
        .setSignerNode(string(c, "signer_node"))
        .setKeyVersion((int) number(c, "key_version"))
        .setSignature(base64(c, "signature"))
        .build();
  }
}
