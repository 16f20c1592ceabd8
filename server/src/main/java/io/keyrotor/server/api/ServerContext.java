package io.keyrotor.server.api;

import io.grpc.StatusRuntimeException;
import io.keyrotor.consensus.ConsensusException;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.server.config.NodeConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the services of one node share: its Raft member, its HSM, its configuration and its clock.
 *
 * @param requestTimeout how long a write or a read barrier may take before the call fails
 */
public record ServerContext(
    RaftNode raft, Hsm hsm, NodeConfig config, Clock clock, Duration requestTimeout) {

  /** The gRPC API address of a node, or null if it is not a configured peer. */
  public String apiAddressOf(String nodeId) {
    NodeConfig.Peer peer = config.peers().get(nodeId);
    return peer == null ? null : peer.apiAddress();
  }

  /** {@code future} bounded by the request timeout. */
  <T> CompletableFuture<T> bounded(CompletableFuture<T> future) {
    return future.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The gRPC status for a failure of a proposal or read barrier. */
  StatusRuntimeException toStatus(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StatusRuntimeException status) {
      return status;
    }
    if (t instanceof ConsensusException consensus) {
      return ApiErrors.fromConsensus(consensus, this::apiAddressOf);
    }
    if (t instanceof TimeoutException) {
      return ApiErrors.fromConsensus(
          new ConsensusException(ConsensusException.Kind.TIMEOUT, "timed out", null, t),
          this::apiAddressOf);
    }
    return ApiErrors.error(
        com.google.rpc.Code.INTERNAL, "INTERNAL", "unexpected server error: " + t);
  }
}
