package io.keyrotor.storage.apply.audit;

import com.google.rpc.Code;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterAuditKey;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.List;
import java.util.Optional;

/**
 * RegisterAuditKey: appends a version of a node's audit public key to its node record, and puts the
 * key into the audit record, so the chain itself says which key signed which checkpoint. Versions
 * go 1, 2, ... per node; the newest version registered again with the same key changes nothing (a
 * node registers its key at every start).
 */
public final class RegisterAuditKeyHandler implements CommandHandler<RegisterAuditKey> {
  @Override
  public Effects apply(RegisterAuditKey register, CommandContext context) {
    AuditKeyRegistration key = register.getKey();
    if (key.getNode().isEmpty() || key.getKeyVersion() < 1) {
      return invalid(context, "an audit key needs a node and a version of at least 1");
    }
    if (!AuditKeys.looksLikeP256(key.getPublicKey().toByteArray())) {
      return invalid(
          context, "an audit key must be an ECDSA P-256 SubjectPublicKeyInfo (91 bytes, DER)");
    }
    Optional<NodeRecord> found = AuditKeys.node(context.state(), key.getNode());
    if (found.isEmpty()) {
      return context.refuse(
          ErrorReason.AUDIT_RECORD_INVALID,
          "node " + key.getNode() + " must register before its audit key",
          "");
    }
    NodeRecord node = found.get();
    List<AuditKeyRegistration> keys = node.getAuditKeysList();
    int newest = keys.isEmpty() ? 0 : keys.get(keys.size() - 1).getKeyVersion();
    if (key.getKeyVersion() == newest && keys.get(keys.size() - 1).equals(key)) {
      return context
          .ok("", 0, 0, "already registered")
          .detail("node=" + key.getNode() + " audit key version " + newest + " unchanged")
          .build();
    }
    if (key.getKeyVersion() != newest + 1) {
      return context.refuse(
          ErrorReason.AUDIT_RECORD_INVALID,
          "node "
              + key.getNode()
              + " has audit key versions up to "
              + newest
              + "; the next must be "
              + (newest + 1)
              + ", not "
              + key.getKeyVersion(),
          "");
    }
    return context
        .ok("", 0, 0, "registered")
        .writeNode(node.toBuilder().addAuditKeys(key).build())
        .detail("node=" + key.getNode() + " audit key version " + key.getKeyVersion())
        .auditFields(AuditRecord.newBuilder().setAuditKey(key).build())
        .build();
  }

  private static Effects invalid(CommandContext context, String message) {
    return context.reject(ErrorReason.AUDIT_RECORD_INVALID, Code.INVALID_ARGUMENT, message, "");
  }
}
