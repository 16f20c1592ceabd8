package io.keyrotor.storage.apply.access;

import com.google.rpc.Code;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.AuthorizationPolicyRecord;
import io.keyrotor.proto.internal.v1.SetAuthorizationPolicy;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.access.PolicyRules;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * SetAuthorizationPolicy: replaces the policy, compare-and-set on its version. The new version is
 * the current one plus one; its setter is the command's principal. A malformed policy is refused
 * here too, so every replica refuses the same.
 */
public final class SetAuthorizationPolicyHandler implements CommandHandler<SetAuthorizationPolicy> {
  private final Supplier<AccessPolicy> current;

  public SetAuthorizationPolicyHandler(Supplier<AccessPolicy> current) {
    this.current = current;
  }

  @Override
  public Effects apply(SetAuthorizationPolicy command, CommandContext context) {
    long version = current.get().version();
    if (command.getExpectedVersion() != 0 && command.getExpectedVersion() != version) {
      return context.refuse(
          ErrorReason.POLICY_VERSION_MISMATCH,
          "the policy is at version "
              + version
              + ", not "
              + command.getExpectedVersion()
              + ": read it again and retry",
          "");
    }
    Optional<String> problem = PolicyRules.problem(command.getPolicy());
    if (problem.isPresent()) {
      return context.reject(
          ErrorReason.INVALID_ACCESS_POLICY, Code.INVALID_ARGUMENT, problem.get(), "");
    }
    String setBy = context.command().getPrincipal();
    AuthorizationPolicy next =
        command.getPolicy().toBuilder()
            .setVersion(version + 1)
            .setSetBy(setBy.isEmpty() ? "node " + context.command().getOriginNode() : setBy)
            .build();
    return context
        .ok("", 0, 0, "policy version " + next.getVersion())
        .writePolicy(
            AuthorizationPolicyRecord.newBuilder()
                .setPolicy(next)
                .setSetIndex(context.index())
                .setSetTimeUnixMillis(context.time())
                .build())
        .detail(
            "policy version "
                + next.getVersion()
                + " ("
                + next.getRolesCount()
                + " roles, "
                + next.getBindingsCount()
                + " bindings)")
        .build();
  }
}
