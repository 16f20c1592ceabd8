package io.keyrotor.consensus;

import io.keyrotor.proto.internal.v1.NodeRecord;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftConfiguration;

/**
 * Who may speak on this node's Raft port: the members of the group's current configuration (during
 * a configuration change, the old and the new members both; voters and listeners), by node id with
 * their Raft addresses, and the nodes an administrator admitted to join (a registry record with a
 * Raft address: they catch up before they are in the configuration). Until the Ratis server has a
 * configuration (a node that starts to join has none), the configured peers.
 */
final class Membership {
  private final Map<String, String> configured;
  private volatile Supplier<RaftConfiguration> configuration;
  private volatile Supplier<Collection<NodeRecord>> registry = List::of;

  Membership(Map<String, String> configuredPeers) {
    this.configured = Map.copyOf(configuredPeers);
  }

  /** From now on, follows {@code current}, the Raft configuration of this node's division. */
  void follow(Supplier<RaftConfiguration> current) {
    this.configuration = Objects.requireNonNull(current);
  }

  /** Also admits the nodes of {@code nodes} that carry a Raft address (admitted to join). */
  void admitRegistered(Supplier<Collection<NodeRecord>> nodes) {
    this.registry = Objects.requireNonNull(nodes);
  }

  /** The members now: node id -> Raft address. */
  Map<String, String> members() {
    Map<String, String> members = new TreeMap<>();
    Supplier<RaftConfiguration> source = configuration;
    RaftConfiguration conf = source == null ? null : source.get();
    if (conf != null) {
      for (RaftPeerRole role : List.of(RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER)) {
        add(members, conf.getAllPeers(role));
        add(members, conf.getPreviousPeers(role));
      }
    }
    if (members.isEmpty()) {
      members.putAll(configured);
    }
    for (NodeRecord node : registry.get()) {
      if (!node.getRaftAddress().isEmpty()) {
        members.putIfAbsent(node.getId(), node.getRaftAddress());
      }
    }
    return members;
  }

  private static void add(Map<String, String> members, Collection<RaftPeer> peers) {
    for (RaftPeer peer : peers) {
      members.put(peer.getId().toString(), peer.getAddress());
    }
  }

  boolean isMember(String nodeId) {
    return members().containsKey(nodeId);
  }
}
