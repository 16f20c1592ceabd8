package io.keyrotor.storage.apply.access;

import com.google.rpc.Code;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.AuthorizationPolicyRecord;
import io.keyrotor.proto.internal.v1.BootstrapAuthorizationPolicy;
import io.keyrotor.storage.access.AccessPolicy;
import io.keyrotor.storage.access.PolicyRules;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * BootstrapAuthorizationPolicy: the first policy, from a node's configuration. It applies only
 * while the cluster has no policy, so the first one applied wins and every later one (another
 * node's, a restart's) changes nothing.
 */
public final class BootstrapAuthorizationPolicyHandler
    implements CommandHandler<BootstrapAuthorizationPolicy> {
  private final Supplier<AccessPolicy> current;

  public BootstrapAuthorizationPolicyHandler(Supplier<AccessPolicy> current) {
    this.current = current;
  }

  @Override
  public Effects apply(BootstrapAuthorizationPolicy command, CommandContext context) {
    long version = current.get().version();
    if (version != 0) {
      return context
          .ok("", 0, 0, "unchanged: the cluster already has policy version " + version)
          .detail("unchanged: policy version " + version + " exists")
          .build();
    }
    Optional<String> problem = PolicyRules.problem(command.getPolicy());
    if (problem.isPresent()) {
      return context.reject(
          ErrorReason.INVALID_ACCESS_POLICY,
          Code.INVALID_ARGUMENT,
          "the bootstrap policy of node "
              + context.command().getOriginNode()
              + ": "
              + problem.get(),
          "");
    }
    AuthorizationPolicy policy =
        command.getPolicy().toBuilder()
            .setVersion(1)
            .setSetBy(
                PolicyRules.BOOTSTRAP_SETTER + " of node " + context.command().getOriginNode())
            .build();
    return context
        .ok("", 0, 0, "policy version 1")
        .writePolicy(
            AuthorizationPolicyRecord.newBuilder()
                .setPolicy(policy)
                .setSetIndex(context.index())
                .setSetTimeUnixMillis(context.time())
                .build())
        .detail("bootstrap policy: administrators " + command.getAdminsList())
        .build();
  }
}
