package io.keyrotor.storage.apply.key;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.Found;
import java.util.Optional;

/** SetRotationPolicy: a key's new policy, and when it next rotates under it. */
public final class SetRotationPolicyHandler {
  public Effects apply(SetRotationPolicy change, CommandContext context) {
    String name = change.getName();
    Found found = context.findKey(name);
    if (found.isMissing()) {
      return found.rejection();
    }
    Optional<String> invalid = Validation.checkPolicy(change.getPolicy());
    if (invalid.isPresent()) {
      return context.reject(ErrorReason.INVALID_POLICY, Code.INVALID_ARGUMENT, invalid.get(), name);
    }
    KeyRecord key = found.key();
    long latestActivation =
        key.getVersions(key.getVersionsCount() - 1).getActivationTimeUnixMillis();
    KeyRecord updated =
        key.toBuilder()
            .setPolicy(change.getPolicy())
            .setNextRotationTimeUnixMillis(
                KeySchedule.nextRotationTime(change.getPolicy(), latestActivation, context.time()))
            .setRevision(context.index())
            .build();
    String detail =
        "period_ms="
            + change.getPolicy().getRotationPeriodMillis()
            + " max_encryptions="
            + change.getPolicy().getMaxEncryptions()
            + " next_rotation="
            + updated.getNextRotationTimeUnixMillis();
    return context
        .ok(name, 0, 0, "policy set")
        .writeKey(updated)
        .detail(detail)
        .event(context.event(KeyEventType.KEY_EVENT_TYPE_POLICY_CHANGED, name, 0, detail))
        .build();
  }
}
