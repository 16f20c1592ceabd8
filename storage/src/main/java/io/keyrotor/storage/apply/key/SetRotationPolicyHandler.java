package io.keyrotor.storage.apply.key;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.KeyHandler;
import java.util.Optional;

/** SetRotationPolicy: a key's new policy, and when it next rotates under it. */
public final class SetRotationPolicyHandler implements KeyHandler<SetRotationPolicy> {
  @Override
  public Effects apply(SetRotationPolicy change, KeyRecord key, CommandContext context) {
    String name = change.getName();
    Optional<String> invalid = Validation.checkPolicy(change.getPolicy());
    if (invalid.isPresent()) {
      return context.reject(ErrorReason.INVALID_POLICY, Code.INVALID_ARGUMENT, invalid.get(), name);
    }
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
    return context.policyChanged(updated, "policy set", detail);
  }
}
