package io.keyrotor.storage.apply.node;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.AdmitNode;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.Optional;

/**
 * AdmitNode: an administrator names a node that will join, with its Raft address, so the members
 * trust it on the Raft port while it catches up as a listener. A record the node registered itself
 * keeps everything but the Raft address.
 */
public final class AdmitNodeHandler implements CommandHandler<AdmitNode> {
  @Override
  public Effects apply(AdmitNode admit, CommandContext context) {
    NodeRecord node = admit.getNode();
    if (node.getId().isEmpty() || node.getRaftAddress().isEmpty()) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT,
          Code.INVALID_ARGUMENT,
          "a node id and its Raft address are required",
          "");
    }
    Optional<NodeRecord> current =
        context.state().nodes().stream().filter(n -> n.getId().equals(node.getId())).findFirst();
    NodeRecord admitted =
        current
            .map(n -> n.toBuilder().setRaftAddress(node.getRaftAddress()).build())
            .orElseGet(() -> node.toBuilder().setRegisteredTimeUnixMillis(context.time()).build());
    return context
        .ok("", 0, 0, "admitted")
        .writeNode(admitted.toBuilder().clearRemoved().build())
        .detail("node=" + node.getId() + " raft=" + node.getRaftAddress())
        .build();
  }
}
