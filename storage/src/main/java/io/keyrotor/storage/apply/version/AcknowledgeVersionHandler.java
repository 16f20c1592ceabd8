package io.keyrotor.storage.apply.version;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.Found;
import java.util.TreeSet;

/**
 * AcknowledgeVersion: a node that must validate a gated version says its HSM unwraps it; the last
 * required acknowledgement validates the version. Changes no status: a validated version becomes
 * primary when its activation time passes.
 */
public final class AcknowledgeVersionHandler {
  public Effects apply(AcknowledgeVersion ack, CommandContext context) {
    Found found = context.findVersion(ack.getName(), ack.getVersion());
    if (found.isMissing()) {
      return found.rejection();
    }
    KeyVersionRecord v = found.version();
    String name = found.name();
    if (v.getValidationDeadlineUnixMillis() == 0
        || v.getStatus() != VersionStatus.VERSION_STATUS_ENABLED
        || v.getAcknowledgedByList().contains(ack.getNode())) {
      return context.unchanged(name, v.getVersion(), "no acknowledgement needed");
    }
    if (!v.getRequiredAcknowledgersList().contains(ack.getNode())) {
      return context.reject(
          ErrorReason.NOT_A_VALIDATOR,
          Code.FAILED_PRECONDITION,
          "node "
              + ack.getNode()
              + " does not validate version "
              + v.getVersion()
              + " of \""
              + name
              + "\"",
          name);
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
        .ok(name, v.getVersion(), 0, complete ? "validated" : "acknowledged")
        .writeKey(context.replaceVersion(found.key(), updated.build()))
        .detail(
            "version=" + v.getVersion() + " node=" + ack.getNode() + (complete ? " validated" : ""))
        .event(
            context.event(
                KeyEventType.KEY_EVENT_TYPE_ACKNOWLEDGED,
                name,
                v.getVersion(),
                "node=" + ack.getNode() + (complete ? " (all validators)" : "")))
        .build();
  }
}
