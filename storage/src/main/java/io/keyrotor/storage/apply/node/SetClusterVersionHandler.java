package io.keyrotor.storage.apply.node;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.ClusterVersionRecord;
import io.keyrotor.proto.internal.v1.SetClusterVersion;
import io.keyrotor.storage.apply.CommandContext;
import io.keyrotor.storage.apply.CommandHandler;
import io.keyrotor.storage.apply.Effects;

/**
 * SetClusterVersion: raises the cluster's active apply version, which switches on the gated apply
 * behaviours up to it. Never lowers it: a version at or below the active one changes nothing. It
 * does not ask whether this binary supports the version (that would differ between replicas): a
 * node that does not stops before the entry reaches apply.
 */
public final class SetClusterVersionHandler implements CommandHandler<SetClusterVersion> {
  @Override
  public Effects apply(SetClusterVersion set, CommandContext context) {
    int target = set.getVersion();
    if (target < 1) {
      return context.reject(
          ErrorReason.INVALID_ARGUMENT,
          Code.INVALID_ARGUMENT,
          "a cluster version is at least 1",
          "");
    }
    int active = context.clusterVersion();
    if (target <= active) {
      String why = "cluster version stays " + active + " (asked for " + target + ")";
      return context.ok("", 0, 0, "unchanged: " + why).detail("unchanged: " + why).build();
    }
    return context
        .ok("", 0, 0, "cluster version raised from " + active + " to " + target)
        .writeClusterVersion(
            ClusterVersionRecord.newBuilder()
                .setVersion(target)
                .setSetIndex(context.index())
                .setSetTimeUnixMillis(context.time())
                .build())
        .detail("version=" + target + " from=" + active)
        .build();
  }
}
