package io.keyrotor.storage.apply.node;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.version.ApplyFeature;
import java.util.List;

/**
 * RegisterNode: a node's record (region, zones, address, HSM, the zones it proved it can unwrap),
 * stamped with the command's time; the nodes serving a zone validate its rotations. The Raft
 * address an administrator admitted it with (AdmitNode) is kept.
 */
public final class RegisterNodeHandler implements CommandHandler<RegisterNode> {
  @Override
  public Effects apply(RegisterNode register, CommandContext context) {
    NodeRecord node = register.getNode();
    if (node.getId().isEmpty()) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, "a node id is required", "");
    }
    String raftAddress =
        context.state().nodes().stream()
            .filter(n -> n.getId().equals(node.getId()))
            .map(NodeRecord::getRaftAddress)
            .findFirst()
            .orElse("");
    return context
        .ok("", 0, 0, "registered")
        .writeNode(
            node.toBuilder()
                .setRegisteredTimeUnixMillis(context.time())
                .setRaftAddress(raftAddress)
                .clearRemoved()
                // Audit keys are registered by their own command; registering again keeps them.
                .clearAuditKeys()
                .addAllAuditKeys(
                    context.state().nodes().stream()
                        .filter(n -> n.getId().equals(node.getId()))
                        .findFirst()
                        .map(NodeRecord::getAuditKeysList)
                        .orElse(List.of()))
                .build())
        .detail(detail(node, context))
        .build();
  }

  private static String detail(NodeRecord node, CommandContext context) {
    String detail =
        "node=" + node.getId() + " region=" + node.getRegion() + " zones=" + node.getZonesList();
    if (node.getVerifiedZonesCount() > 0
        && context.feature(ApplyFeature.REGISTRATION_AUDITS_VERIFIED_ZONES)) {
      detail += " verified=" + node.getVerifiedZonesList();
    }
    if (context.feature(ApplyFeature.REGISTRATION_AUDITS_SUPPORTED_VERSION)) {
      // 0: a node that does not report a version, which supports only the base version.
      detail += " supports=" + Math.max(1, node.getSupportedClusterVersion());
    }
    return detail;
  }
}
