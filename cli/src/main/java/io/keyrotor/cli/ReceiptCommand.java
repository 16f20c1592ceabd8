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
          + " position in the audit chain (log index and audit record hash), signed with a"
          + " node's audit key.",
      "A version that is not destroyed (yet) has none: FAILED_PRECONDITION VERSION_NOT_DESTROYED.",
      "Save it with --json > FILE and check it offline with"
          + " 'keyrotor audit verify-receipt FILE --trust KEYS'."
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

  /** The receipt as {@link ReceiptJson} writes it (what {@code audit verify-receipt} reads). */
  static JsonObject json(DestructionReceipt receipt) {
    return ReceiptJson.json(receipt);
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
        "signature",
        receipt.hasSignature()
            ? "signed by "
                + receipt.getSignature().getSignerNode()
                + " (audit key version "
                + receipt.getSignature().getKeyVersion()
                + "), recorded at log index "
                + receipt.getSignature().getRecordedIndex()
            : "(not signed yet: the leader signs it within audit.receipt-signing-interval)");
    return out.toString();
  }

  private static void line(StringBuilder out, String label, String value) {
    out.append(String.format("  %-14s %s%n", label + ":", value));
  }
}
