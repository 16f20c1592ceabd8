package io.keyrotor.storage.version;

import io.keyrotor.proto.internal.v1.ClusterVersionRecord;
import io.keyrotor.proto.internal.v1.Command;
import java.util.Optional;

/**
 * Apply behaviour versions. The cluster's active version is replicated state (a {@link
 * ClusterVersionRecord} set by the SetClusterVersion command, only ever raised), never this
 * binary's: apply reads it to decide which {@link ApplyFeature}s are on, so replicas running
 * different binaries apply the same entries the same way.
 */
public final class ClusterVersion {
  /**
   * The behaviour of every release before versions existed; the active version of a new cluster.
   */
  public static final int BASE = 1;

  /** The highest version this binary can apply. */
  public static final int SUPPORTED = 3;

  private ClusterVersion() {}

  /** The active version {@code record} sets, {@link #BASE} when there is none. */
  public static int of(Optional<ClusterVersionRecord> record) {
    return record.map(r -> Math.max(BASE, r.getVersion())).orElse(BASE);
  }

  /**
   * The version a node needs to apply {@code command} when the active version is {@code active}:
   * the active one, or the version a SetClusterVersion raises it to. A node that supports less must
   * stop before applying the entry ({@link UnsupportedClusterVersionException}).
   */
  public static int requiredToApply(Command command, int active) {
    return command.hasSetClusterVersion()
        ? Math.max(active, command.getSetClusterVersion().getVersion())
        : active;
  }

  /**
   * Refuses, with the message an operator needs, to apply {@code command} (log {@code index}) on a
   * node whose binary supports up to {@code supported} when the active version is {@code active}.
   */
  public static void checkCanApply(Command command, long index, int active, int supported) {
    int required = requiredToApply(command, active);
    if (required > supported) {
      throw new UnsupportedClusterVersionException(
          "log entry "
              + index
              + " needs cluster version "
              + required
              + " but this node supports up to "
              + supported
              + ": upgrade this node's binary (it stopped instead of applying entries it would"
              + " apply differently from the rest of the cluster)",
          required,
          supported);
    }
  }
}
