package io.keyrotor.consensus;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftConfiguration;

/**
 * Who may speak on this node's Raft port: the members of the group's current configuration (during
 * a configuration change, the old and the new members both), by node id with their Raft addresses.
 * Until the Ratis server is running, the configured peers.
 */
final class Membership {
  private final Map<String, String> configured;
  private volatile Supplier<RaftConfiguration> configuration;

  Membership(Map<String, String> configuredPeers) {
    this.configured = Map.copyOf(configuredPeers);
  }

  /** From now on, follows {@code current}, the Raft configuration of this node's division. */
  void follow(Supplier<RaftConfiguration> current) {
    this.configuration = Objects.requireNonNull(current);
  }

  /** The members now: node id -> Raft address. */
  Map<String, String> members() {
    Supplier<RaftConfiguration> source = configuration;
    RaftConfiguration conf = source == null ? null : source.get();
    if (conf == null) {
      return configured;
    }
    Map<String, String> members = new TreeMap<>();
    for (RaftPeer peer : conf.getAllPeers()) {
      members.put(peer.getId().toString(), peer.getAddress());
    }
    return members;
  }

  boolean isMember(String nodeId) {
    return members().containsKey(nodeId);
  }
}
