package io.keyrotor.server.api;

import io.grpc.StatusRuntimeException;
import io.keyrotor.consensus.ConsensusException;
import io.keyrotor.server.dataplane.DataPlaneException;
import io.keyrotor.server.hsm.HsmExecutor;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Turns whatever a call failed with into its gRPC status, through {@link ApiErrors}: a status built
 * on the way (validation, refusals before proposal, a rejected command) as it is; the consensus
 * layer's failures (with the leader's API address); data-plane refusals (ZONE_NOT_HELD with the
 * nodes that hold the zone); a timeout as NO_QUORUM; anything else as INTERNAL.
 */
public final class ErrorMapper {
  private final ServerContext context;

  public ErrorMapper(ServerContext context) {
    this.context = context;
  }

  /** The status of {@code failure}, unwrapping the futures' wrappers first. */
  public StatusRuntimeException toStatus(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StatusRuntimeException status) {
      return status;
    }
    if (t instanceof ConsensusException consensus) {
      return ApiErrors.fromConsensus(consensus, context::apiAddressOf);
    }
    if (t instanceof TimeoutException) {
      return ApiErrors.fromConsensus(
          new ConsensusException(ConsensusException.Kind.TIMEOUT, "timed out", null, t),
          context::apiAddressOf);
    }
    if (t instanceof HsmExecutor.Saturated saturated) {
      return ApiErrors.hsmSaturated(saturated);
    }
    if (t instanceof RejectedExecutionException) {
      return ApiErrors.shuttingDown(); // an executor of this node was closed under the call
    }
    if (t instanceof DataPlaneException refused) {
      return switch (refused.reason()) {
        case ZONE_NOT_HELD -> zoneNotHeld(refused.zone());
        default -> ApiErrors.fromDataPlane(refused);
      };
    }
    return ApiErrors.internal(t);
  }

  /** FAILED_PRECONDITION ZONE_NOT_HELD naming the nodes that hold the zone, or ZONE_NOT_FOUND. */
  public StatusRuntimeException zoneNotHeld(String zone) {
    return ApiErrors.zoneNotHeld(
        zone, context.config().nodeId(), context.raft().state().nodes().values());
  }
}
