package io.keyrotor.storage.apply.node;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RemoveNode;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * RemoveNode: a node left the Raft group. Its record leaves the registry, so no new rotation waits
 * for it; every gated version that still waits for its acknowledgement stops waiting for it, and is
 * validated at this command's time when the node was the last one missing (before its deadline: a
 * gate whose deadline passed stays failed, as it would have). Deterministic: it reads only the
 * state and the command.
 */
public final class RemoveNodeHandler implements CommandHandler<RemoveNode> {
  @Override
  public Effects apply(RemoveNode remove, CommandContext context) {
    String id = remove.getNodeId();
    Optional<NodeRecord> current =
        context.state().nodes().stream().filter(n -> n.getId().equals(id)).findFirst();
    if (current.isEmpty()) {
      return context.reject(
          ErrorReason.UNKNOWN_NODE,
          Code.NOT_FOUND,
          "node \"" + id + "\" is not in the registry",
          "");
    }
    Effects.Builder effects =
        context
            .ok("", 0, 0, "removed")
            .writeNode(NodeRecord.newBuilder().setId(id).setRemoved(true).build());
    List<String> released = new ArrayList<>();
    for (KeyRecord key : context.state().keys()) {
      KeyRecord updated = key;
      boolean changed = false;
      for (KeyVersionRecord version : key.getVersionsList()) {
        if (!waitsFor(version, id)) {
          continue;
        }
        List<String> required = new ArrayList<>(version.getRequiredAcknowledgersList());
        required.remove(id);
        changed = true;
        KeyVersionRecord.Builder next =
            version.toBuilder().clearRequiredAcknowledgers().addAllRequiredAcknowledgers(required);
        boolean complete = version.getAcknowledgedByList().containsAll(required);
        if (complete && context.time() <= version.getValidationDeadlineUnixMillis()) {
          next.setValidatedTimeUnixMillis(context.time());
        }
        updated = context.replaceVersion(updated, next.build());
        released.add(key.getName() + "/" + version.getVersion());
        effects.event(
            context.event(
                KeyEventType.KEY_EVENT_TYPE_ACKNOWLEDGED,
                key.getName(),
                version.getVersion(),
                "node=" + id + " left the cluster" + (complete ? " (all validators)" : "")));
      }
      if (changed) {
        effects.writeKey(updated);
      }
    }
    return effects
        .detail("node=" + id + (released.isEmpty() ? "" : " released gates=" + released))
        .build();
  }

  /** Whether {@code version} is an enabled, gated version still waiting for {@code node}. */
  private static boolean waitsFor(KeyVersionRecord version, String node) {
    return version.getValidationDeadlineUnixMillis() != 0
        && version.getValidatedTimeUnixMillis() == 0
        && version.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
        && version.getRequiredAcknowledgersList().contains(node)
        && !version.getAcknowledgedByList().contains(node);
  }
}
