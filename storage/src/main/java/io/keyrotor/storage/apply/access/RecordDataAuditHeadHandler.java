package io.keyrotor.storage.apply.access;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.RecordDataAuditHead;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.HexFormat;

/**
 * RecordDataAuditHead: how far one node's per-node data audit stream had gone (its sequence and
 * chain head), written into the audit chain so every replica witnesses it. Changes no other state;
 * the audit detail is {@code node=N sequence=S head=HEX}, which a verifier matches against the
 * node's exported records. A head that is not 32 bytes, or a command without a node, is refused.
 */
public final class RecordDataAuditHeadHandler implements CommandHandler<RecordDataAuditHead> {
  /** Longest node id recorded. */
  static final int MAX_NODE = 128;

  @Override
  public Effects apply(RecordDataAuditHead command, CommandContext context) {
    if (command.getNode().isEmpty()
        || command.getNode().length() > MAX_NODE
        || command.getHead().size() != 32) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT,
          Code.INVALID_ARGUMENT,
          "a data audit head needs a node id (at most "
              + MAX_NODE
              + " characters) and a 32-byte SHA-256 head",
          "");
    }
    String detail =
        "node="
            + command.getNode()
            + " sequence="
            + command.getSequence()
            + " head="
            + HexFormat.of().formatHex(command.getHead().toByteArray());
    return context
        .ok("", 0, 0, "recorded data audit head of " + command.getNode())
        .detail(detail)
        .build();
  }
}
