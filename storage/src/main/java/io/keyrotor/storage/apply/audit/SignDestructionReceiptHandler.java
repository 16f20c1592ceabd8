package io.keyrotor.storage.apply.audit;

import com.google.rpc.Code;
import io.keyrotor.api.v1.DestructionReceiptSignature;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.SignDestructionReceipt;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.receipt.DestructionReceipts;
import java.util.Optional;

/**
 * SignDestructionReceipt: a receipt signature made by the leader's HSM before it proposed it. Apply
 * stays deterministic and HSM-free, so it checks shape only: the receipt exists and is unsigned,
 * the signer's key version is registered in the chain, and the signature is 64 bytes. The store
 * then writes the signed receipt ({@link DestructionReceipts#stageSignature}), and this command's
 * audit record carries it, so the chain holds every signed receipt. Whether the signature is right
 * is what verifiers check ({@code keyrotor audit verify}, {@code keyrotor audit verify-receipt}).
 */
public final class SignDestructionReceiptHandler implements CommandHandler<SignDestructionReceipt> {
  /** ECDSA P-256 in IEEE P1363 form: r || s. */
  private static final int SIGNATURE_BYTES = 64;

  @Override
  public Effects apply(SignDestructionReceipt sign, CommandContext context) {
    DestructionReceiptSignature signature = sign.getSignature();
    if (signature.getSignature().size() != SIGNATURE_BYTES) {
      return context.reject(
          ErrorReason.AUDIT_RECORD_INVALID,
          Code.INVALID_ARGUMENT,
          "a receipt signature is 64 bytes (ECDSA P-256, r || s)",
          sign.getName());
    }
    if (AuditKeys.key(context.state(), signature.getSignerNode(), signature.getKeyVersion())
        .isEmpty()) {
      return context.refuse(
          ErrorReason.AUDIT_RECORD_INVALID,
          "node "
              + signature.getSignerNode()
              + " has no registered audit key version "
              + signature.getKeyVersion(),
          sign.getName());
    }
    Optional<DestructionReceiptRecord> receipt =
        context.state().destructionReceipt(sign.getName(), sign.getVersion());
    if (receipt.isEmpty()) {
      return context.refuse(
          ErrorReason.VERSION_NOT_DESTROYED,
          "version " + sign.getVersion() + " of key \"" + sign.getName() + "\" has no receipt",
          sign.getName());
    }
    if (receipt.get().hasSignature()) {
      return context.refuse(
          ErrorReason.DESTRUCTION_RECEIPT_ALREADY_SIGNED,
          "the receipt of version "
              + sign.getVersion()
              + " of key \""
              + sign.getName()
              + "\" is signed already (at index "
              + receipt.get().getSignature().getRecordedIndex()
              + ")",
          sign.getName());
    }
    DestructionReceiptRecord signed =
        DestructionReceipts.withSignature(receipt.get(), sign, context.index());
    return context
        .ok(sign.getName(), sign.getVersion(), 0, "destruction receipt signed")
        .detail(
            "receipt of index "
                + signed.getLogIndex()
                + " signer="
                + signature.getSignerNode()
                + " key version "
                + signature.getKeyVersion())
        .auditFields(
            AuditRecord.newBuilder()
                .setDestructionReceipt(DestructionReceipts.toApi(signed))
                .build())
        .build();
  }
}
