package io.keyrotor.cli;

import static io.keyrotor.cli.JsonFields.base64;
import static io.keyrotor.cli.JsonFields.number;
import static io.keyrotor.cli.JsonFields.strict;
import static io.keyrotor.cli.JsonFields.string;
import static io.keyrotor.cli.JsonFields.time;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.DestructionReceiptSignature;
import java.util.Base64;
import java.util.Set;

/**
 * A destruction receipt as JSON, the same wherever it appears ({@code keyrotor key receipt --json},
 * the {@code destruction_receipt} of an exported SIGN_DESTRUCTION_RECEIPT record) and read back
 * exactly ({@code keyrotor audit verify-receipt}, {@code keyrotor audit verify}): {@code
 * {"key","version","zone","destroyed_time","scheduled_destroy_time","scheduled_by","log_index",
 * "audit_record_hash","signature"}}, times in ISO-8601 UTC, the signature {@code {"signer_node",
 * "key_version","signature" (base64),"recorded_index"}} or null while unsigned. Parsing is strict
 * (an unknown field is refused), so a file cannot carry text the signature does not cover.
 */
final class ReceiptJson {
  private static final Set<String> FIELDS =
      Set.of(
          "key",
          "version",
          "zone",
          "destroyed_time",
          "scheduled_destroy_time",
          "scheduled_by",
          "log_index",
          "audit_record_hash",
          "signature");
  private static final Set<String> SIGNATURE_FIELDS =
      Set.of("signer_node", "key_version", "signature", "recorded_index");

  private ReceiptJson() {}

  static JsonObject json(DestructionReceipt receipt) {
    JsonObject json = new JsonObject();
    json.addProperty("key", receipt.getName());
    json.addProperty("version", Integer.toUnsignedLong(receipt.getVersion()));
    json.addProperty("zone", receipt.getZone());
    json.addProperty("destroyed_time", JsonOutput.timeText(receipt.getDestroyedTime()));
    json.addProperty(
        "scheduled_destroy_time", JsonOutput.timeText(receipt.getScheduledDestroyTime()));
    json.addProperty("scheduled_by", receipt.getScheduledBy());
    json.addProperty("log_index", receipt.getLogIndex());
    json.addProperty("audit_record_hash", receipt.getAuditRecordHash());
    if (receipt.hasSignature()) {
      DestructionReceiptSignature s = receipt.getSignature();
      JsonObject signature = new JsonObject();
      signature.addProperty("signer_node", s.getSignerNode());
      signature.addProperty("key_version", Integer.toUnsignedLong(s.getKeyVersion()));
      signature.addProperty(
          "signature", Base64.getEncoder().encodeToString(s.getSignature().toByteArray()));
      signature.addProperty("recorded_index", s.getRecordedIndex());
      json.add("signature", signature);
    } else {
      json.add("signature", JsonNull.INSTANCE);
    }
    return json;
  }

  /**
   * The receipt {@code json} states.
   *
   * @throws IllegalArgumentException saying what is wrong with it
   */
  static DestructionReceipt parse(JsonObject json) {
    strict(json, FIELDS, "a receipt");
    DestructionReceipt.Builder receipt =
        DestructionReceipt.newBuilder()
            .setName(string(json, "key"))
            .setVersion((int) number(json, "version"))
            .setZone(string(json, "zone"))
            .setDestroyedTime(time(json, "destroyed_time"))
            .setScheduledDestroyTime(time(json, "scheduled_destroy_time"))
            .setScheduledBy(string(json, "scheduled_by"))
            .setLogIndex(number(json, "log_index"))
            .setAuditRecordHash(string(json, "audit_record_hash"));
    JsonElement signature = json.get("signature");
    if (signature != null && !signature.isJsonNull()) {
      if (!signature.isJsonObject()) {
        throw new IllegalArgumentException("\"signature\" is not an object");
      }
      JsonObject s = signature.getAsJsonObject();
      strict(s, SIGNATURE_FIELDS, "a signature");
      receipt.setSignature(
          DestructionReceiptSignature.newBuilder()
              .setSignerNode(string(s, "signer_node"))
              .setKeyVersion((int) number(s, "key_version"))
              .setSignature(base64(s, "signature"))
              .setRecordedIndex(number(s, "recorded_index")));
    }
    return receipt.build();
  }
}
