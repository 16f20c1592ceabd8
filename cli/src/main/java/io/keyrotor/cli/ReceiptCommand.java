package io.keyrotor.cli;

import com.google.gson.JsonObject;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.GetDestructionReceiptRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code keyrotor key receipt NAME VERSION}: the receipt of a destroyed version. */
@Command(
    name = "receipt",
    description = {
      "The receipt of a destroyed version: when it was destroyed, who scheduled it, and its"
          + " position in the audit chain (log index and audit record hash).",
      "A version that is not destroyed (yet) has none: FAILED_PRECONDITION VERSION_NOT_DESTROYED."
    })
final class ReceiptCommand implements Runnable {
  @Mixin CommandArguments.KeyVersion arguments;

  @Override
  public void run() {
    KeyrotorCli root = arguments.root();
    DestructionReceipt receipt =
        root.client()
            .getDestructionReceipt(
                GetDestructionReceiptRequest.newBuilder()
                    .setName(arguments.name)
                    .setVersion(arguments.version)
                    .build());
    root.print(json(receipt), human(receipt));
  }

  /**
   * {@code {"key","version","zone","destroyed_time","scheduled_destroy_time","scheduled_by",
   * "log_index","audit_record_hash","covering_checkpoint_index","covering_checkpoint_signature"}};
   * the checkpoint fields are null until a signed audit checkpoint covers the receipt.
   */
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
    if (receipt.getCoveringCheckpointIndex() == 0) {
      json.add("covering_checkpoint_index", com.google.gson.JsonNull.INSTANCE);
      json.add("covering_checkpoint_signature", com.google.gson.JsonNull.INSTANCE);
    } else {
      json.addProperty("covering_checkpoint_index", receipt.getCoveringCheckpointIndex());
      json.addProperty(
          "covering_checkpoint_signature",
          java.util.HexFormat.of()
              .formatHex(receipt.getCoveringCheckpointSignature().toByteArray()));
    }
    return json;
  }

  static String human(DestructionReceipt receipt) {
    StringBuilder out = new StringBuilder();
    out.append(receipt.getName())
        .append(" v")
        .append(Integer.toUnsignedLong(receipt.getVersion()))
        .append(" was destroyed; its wrapped key material is erased\n");
    line(out, "zone", receipt.getZone());
    line(out, "destroyed at", JsonOutput.timeText(receipt.getDestroyedTime()));
    line(out, "scheduled for", JsonOutput.timeText(receipt.getScheduledDestroyTime()));
    line(
        out,
        "scheduled by",
        receipt.getScheduledBy().isEmpty() ? "(the cluster)" : receipt.getScheduledBy());
    line(out, "log index", Long.toUnsignedString(receipt.getLogIndex()));
    line(out, "audit record", receipt.getAuditRecordHash());
    line(
        out,
        "checkpoint",
        receipt.getCoveringCheckpointIndex() == 0
            ? "(no signed audit checkpoint covers it yet)"
            : "signed at log index " + receipt.getCoveringCheckpointIndex());
    return out.toString();
  }

  private static void line(StringBuilder out, String label, String value) {
    out.append(String.format("  %-14s %s%n", label + ":", value));
  }
}
