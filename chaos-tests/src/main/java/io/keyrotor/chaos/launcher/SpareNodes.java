package io.keyrotor.chaos.launcher;

import java.io.IOException;
import java.util.List;

/**
 * What a launcher that lays out spare nodes can do for the membership nemesis ({@link
 * NodeLauncher#spares()}): the slots outside the first group, and turning a node that left the
 * group back into a fresh joiner.
 */
public interface SpareNodes {
  /**
   * Nodes laid out and networked but not in the first group (after {@link NodeLauncher#nodeIds()}):
   * the slots the membership nemesis adds. Each starts as a joiner ({@code cluster.join=true}) when
   * started.
   */
  List<String> spareIds();

  /**
   * Stops the node and makes it what a new machine under its id would be: its data deleted, its
   * configuration a joiner's ({@code cluster.join=true}), its HSM and certificate kept. Not
   * started. Used after the node left the group, so a restart never brings back its old log.
   */
  void resetToJoiner(String nodeId) throws IOException;

  /** host:port of a node's Raft server, as the other nodes dial it. */
  String raftAddress(String nodeId);

  /** The region a node's configuration names. */
  String region(String nodeId);
}
