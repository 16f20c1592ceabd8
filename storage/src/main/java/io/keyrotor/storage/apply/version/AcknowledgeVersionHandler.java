package io.keyrotor.storage.apply.version;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.VersionHandler;
import io.keyrotor.storage.apply.VersionTarget;
import java.util.TreeSet;

/**
 * AcknowledgeVersion: a node that must validate a gated version says its HSM unwraps it; the last
 * required acknowledgement validates the version. Changes no status: a validated version becomes
 * primary when its activation time passes.
 */
public final class AcknowledgeVersionHandler implements VersionHandler<AcknowledgeVersion> {
  @Override
  public Effects apply(AcknowledgeVersion ack, VersionTarget target, CommandContext context) {
    KeyVersionRecord v = target.version();
    if (v.getValidationDeadlineUnixMillis() == 0
        || v.getStatus() != VersionStatus.VERSION_STATUS_ENABLED
        || v.getAcknowledgedByList().contains(ack.getNode())) {
      return context.unchanged(target, "no acknowledgement needed");
    }
    if (!v.getRequiredAcknowledgersList().contains(ack.getNode())) {
      return context.refuse(
          ErrorReason.NOT_A_VALIDATOR,
          "node "
              + ack.getNode()
              + " does not validate version "
              + v.getVersion()
              + " of \""
              + target.name()
              + "\"",
          target.name());
    }
    TreeSet<String> acknowledged = new TreeSet<>(v.getAcknowledgedByList());
    acknowledged.add(ack.getNode());
    KeyVersionRecord.Builder updated =
        v.toBuilder().clearAcknowledgedBy().addAllAcknowledgedBy(acknowledged);
    boolean complete = acknowledged.containsAll(v.getRequiredAcknowledgersList());
    if (complete && v.getValidatedTimeUnixMillis() == 0) {
      updated.setValidatedTimeUnixMillis(context.time());
    }
    return context
        .ok(target, complete ? "validated" : "acknowledged")
        .writeKey(context.replaceVersion(target.key(), updated.build()))
        .detail(
            "version=" + v.getVersion() + " node=" + ack.getNode() + (complete ? " validated" : ""))
        .event(
            context.event(
                KeyEventType.KEY_EVENT_TYPE_ACKNOWLEDGED,
                target.name(),
                v.getVersion(),
                "node=" + ack.getNode() + (complete ? " (all validators)" : "")))
        .build();
  }
}
