package io.keyrotor.server.api;

import io.keyrotor.consensus.RaftNode;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.server.config.NodeConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What the services of one node share: its Raft member, its HSM, its configuration and its clock.
 *
 * @param requestTimeout how long a write or a read barrier may take before the call fails
 */
public record ServerContext(
    RaftNode raft, Hsm hsm, NodeConfig config, Clock clock, Duration requestTimeout) {

  /**
   * The gRPC API address of a node: a configured peer's, or the one a node that joined later
   * registered; null if neither is known.
   */
  public String apiAddressOf(String nodeId) {
    NodeConfig.Peer peer = config.peers().get(nodeId);
    if (peer != null) {
      return peer.apiAddress();
    }
    NodeRecord registered = raft.state().nodes().get(nodeId);
    return registered == null || registered.getApiAddress().isEmpty()
        ? null
        : registered.getApiAddress();
  }

  /**
   * The members of the Raft group now (voters and listeners), with their API addresses as {@link
   * #apiAddressOf} knows them (empty when unknown); the configured peers until the group is known.
   */
  public SortedMap<String, NodeConfig.Peer> members() {
    Map<String, String> raftMembers = raft.members().all();
    if (raftMembers.isEmpty()) {
      return config.peers();
    }
    SortedMap<String, NodeConfig.Peer> out = new TreeMap<>();
    raftMembers.forEach(
        (id, raftAddress) -> {
          String api = apiAddressOf(id);
          out.put(id, new NodeConfig.Peer(id, raftAddress, api == null ? "" : api));
        });
    return out;
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
