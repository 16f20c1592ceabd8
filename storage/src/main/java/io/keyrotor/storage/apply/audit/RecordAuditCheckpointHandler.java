package io.keyrotor.storage.apply.audit;

import com.google.rpc.Code;
import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.RecordAuditCheckpoint;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;

/**
 * RecordAuditCheckpoint: a head signed by the leader before it proposed it, stored as the audit
 * record of this command. Apply stays deterministic and HSM-free, so it checks shape only: an index
 * before this command's, a 32-byte head, a signer key version registered in the chain and a 64-byte
 * signature. Whether the signature and the head are right is what verifiers check (the node at
 * start, {@code keyrotor audit verify} offline).
 */
public final class RecordAuditCheckpointHandler implements CommandHandler<RecordAuditCheckpoint> {
  /** SHA-256. */
  private static final int HEAD_BYTES = 32;

  /** ECDSA P-256 in IEEE P1363 form: r || s. */
  private static final int SIGNATURE_BYTES = 64;

  @Override
  public Effects apply(RecordAuditCheckpoint record, CommandContext context) {
    AuditCheckpoint checkpoint = record.getCheckpoint();
    if (checkpoint.getLogIndex() < 1 || checkpoint.getLogIndex() >= context.index()) {
      return invalid(
          context,
          "a checkpoint signs an earlier record (index 1 to "
              + (context.index() - 1)
              + "), not index "
              + checkpoint.getLogIndex());
    }
    if (checkpoint.getHead().size() != HEAD_BYTES
        || checkpoint.getSignature().size() != SIGNATURE_BYTES) {
      return invalid(context, "a checkpoint has a 32-byte head and a 64-byte signature");
    }
    if (AuditKeys.key(context.state(), checkpoint.getSignerNode(), checkpoint.getKeyVersion())
        .isEmpty()) {
      return context.refuse(
          ErrorReason.AUDIT_RECORD_INVALID,
          "node "
              + checkpoint.getSignerNode()
              + " has no registered audit key version "
              + checkpoint.getKeyVersion(),
          "");
    }
    return context
        .ok("", 0, 0, "checkpoint recorded")
        .detail(
            "index="
                + checkpoint.getLogIndex()
                + " signer="
                + checkpoint.getSignerNode()
                + " key version "
                + checkpoint.getKeyVersion())
        .auditFields(AuditRecord.newBuilder().setCheckpoint(checkpoint).build())
        .build();
  }

  private static Effects invalid(CommandContext context, String message) {
    return context.reject(ErrorReason.AUDIT_RECORD_INVALID, Code.INVALID_ARGUMENT, message, "");
  }
}
