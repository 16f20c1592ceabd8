package io.keyrotor.consensus;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The Raft group's members as this node's division sees them: voters and non-voting listeners, each
 * by node id with its Raft address.
 *
 * @param voters the voting members (followers, candidates and the leader)
 * @param listeners members that receive the log but neither vote nor count for a majority
 * @param stable false while a configuration change (old and new voters together) is in progress
 */
public record GroupMembers(
    SortedMap<String, String> voters, SortedMap<String, String> listeners, boolean stable) {
  public GroupMembers {
    voters = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(voters));
    listeners = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(listeners));
  }

  /** Whether {@code nodeId} is a voter or a listener. */
  public boolean contains(String nodeId) {
    return voters.containsKey(nodeId) || listeners.containsKey(nodeId);
  }

  /** Every member, voters and listeners: id -> Raft address. */
  public Map<String, String> all() {
    SortedMap<String, String> out = new TreeMap<>(voters);
    out.putAll(listeners);
    return out;
  }
}
