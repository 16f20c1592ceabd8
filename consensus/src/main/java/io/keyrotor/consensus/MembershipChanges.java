package io.keyrotor.consensus;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException;
import org.apache.ratis.protocol.exceptions.SetConfigurationException;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group's configuration as one node reads and changes it: its voters and listeners, a
 * compare-and-set change of them through the leader, and leadership transfer. Ratis's refusals of a
 * change (another in progress, the configuration no longer the one read) become {@link
 * MembershipChangeException}; other failures are translated like proposals' ({@link RaftRequests}).
 */
final class MembershipChanges {
  private static final Logger LOG = LoggerFactory.getLogger(MembershipChanges.class);

  private final String nodeId;
  private final RaftServer server;
  private final RaftGroup group;
  private final RaftClient forwarder;
  private final RaftRequests requests;

  MembershipChanges(
      String nodeId,
      RaftServer server,
      RaftGroup group,
      RaftClient forwarder,
      RaftRequests requests) {
    this.nodeId = nodeId;
    this.server = server;
    this.group = group;
    this.forwarder = forwarder;
    this.requests = requests;
  }

  /** See {@link RaftNode#transferLeadership}. */
  void transferLeadership(String targetNodeId, long timeoutMillis) {
    try {
      RaftClientReply reply =
          forwarder
              .admin()
              .transferLeadership(
                  targetNodeId == null || targetNodeId.isEmpty()
                      ? null
                      : RaftPeerId.valueOf(targetNodeId),
                  timeoutMillis);
      requests.checkReply(reply);
    } catch (IOException e) {
      throw requests.translate(e);
    }
  }

  /** See {@link RaftNode#members}. */
  GroupMembers members() {
    RaftConfiguration conf;
    try {
      conf = server.getDivision(group.getGroupId()).getRaftConf();
    } catch (IOException e) {
      throw requests.translate(e);
    }
    return new GroupMembers(
        addresses(conf.getCurrentPeers(RaftPeerRole.FOLLOWER)),
        addresses(conf.getCurrentPeers(RaftPeerRole.LISTENER)),
        conf.getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty());
  }

  /** See {@link RaftNode#changeMembers}. */
  void changeMembers(
      GroupMembers current, Map<String, String> voters, Map<String, String> listeners) {
    SetConfigurationRequest.Arguments arguments =
        SetConfigurationRequest.Arguments.newBuilder()
            .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
            .setServersInCurrentConf(peers(current.voters()))
            .setListenersInCurrentConf(peers(current.listeners()))
            .setServersInNewConf(peers(voters))
            .setListenersInNewConf(peers(listeners))
            .build();
    LOG.info(
        "Node {} asks for the Raft configuration voters={} listeners={} (was {})",
        nodeId,
        voters.keySet(),
        listeners.keySet(),
        current);
    try {
      RaftClientReply reply = forwarder.admin().setConfiguration(arguments);
      if (!reply.isSuccess() && isMembershipConflict(reply.getException())) {
        throw new MembershipChangeException(
            reply.getException().getMessage(), reply.getException());
      }
      requests.checkReply(reply);
    } catch (IOException e) {
      if (isMembershipConflict(e)) {
        throw new MembershipChangeException(e.getMessage(), e);
      }
      throw requests.translate(e);
    }
  }

  private static boolean isMembershipConflict(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ReconfigurationInProgressException
          || t instanceof SetConfigurationException) {
        return true;
      }
    }
    return false;
  }

  private static SortedMap<String, String> addresses(Collection<RaftPeer> peers) {
    SortedMap<String, String> out = new TreeMap<>();
    peers.forEach(p -> out.put(p.getId().toString(), p.getAddress()));
    return out;
  }

  private static List<RaftPeer> peers(Map<String, String> members) {
    List<RaftPeer> out = new ArrayList<>();
    members.forEach(
        (id, address) ->
            out.add(
                RaftPeer.newBuilder().setId(RaftPeerId.valueOf(id)).setAddress(address).build()));
    return out;
  }
}
