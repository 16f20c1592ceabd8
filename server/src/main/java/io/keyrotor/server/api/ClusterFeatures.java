package io.keyrotor.server.api;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.version.ApplyFeature;
import java.util.Map;

/**
 * The server's check, before proposing, that the cluster has switched on the apply behaviour a
 * request needs ({@link ApplyFeature}): while a voting member still runs a binary without it, the
 * request is refused FAILED_PRECONDITION {@code FEATURE_NOT_ACTIVE} and nothing reaches the log.
 * The active version only rises, so a request this check lets through is applied with the feature
 * on; a node that is behind sees a lower version and refuses, which a retry on the leader settles.
 */
public final class ClusterFeatures {
  private ClusterFeatures() {}

  /** Throws FEATURE_NOT_ACTIVE unless {@code feature} is active in {@code state}. */
  public static void require(StateView state, ApplyFeature feature, String what) {
    int active = state.activeClusterVersion();
    if (!feature.activeAt(active)) {
      throw ApiErrors.error(
          Code.FAILED_PRECONDITION,
          ErrorReason.FEATURE_NOT_ACTIVE,
          what
              + " needs cluster version "
              + feature.version()
              + " ("
              + feature.name()
              + "), but the cluster is at version "
              + active
              + ": some member runs an older binary. Raise the cluster version first: upgrade"
              + " every node to a binary that supports it; the leader raises the version within"
              + " upgrade.check-interval after the last one registers (cluster status shows the"
              + " active version)",
          Map.of(
              "feature",
              feature.name(),
              "required_version",
              String.valueOf(feature.version()),
              "active_version",
              String.valueOf(active)));
    }
  }
}
