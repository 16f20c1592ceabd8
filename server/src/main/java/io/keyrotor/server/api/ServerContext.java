package io.keyrotor.server.api;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.server.config.NodeConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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

  /** The one mapper from a call's failure to its gRPC status. */
  ErrorMapper errors() {
    return new ErrorMapper(this);
  }
}
