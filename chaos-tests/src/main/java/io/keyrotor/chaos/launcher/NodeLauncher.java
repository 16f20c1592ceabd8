package io.keyrotor.chaos.launcher;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts, stops and faults the node processes of one chaos run. The network-namespace launcher
 * ({@link NetnsLauncher}) is the one this module ships; a Testcontainers launcher can implement the
 * same interface where a Docker engine exists (containers for nodes, {@code docker kill -s} for the
 * process faults, {@code nft} inside each container for the network faults).
 *
 * <p>Implementations clean up after themselves on {@link #close()}, also when the run failed, and
 * reap what an earlier crashed run left behind before they start.
 */
public interface NodeLauncher extends AutoCloseable {
  /** The node ids, n1..nN. */
  List<String> nodeIds();

  /** host:port of a node's gRPC API, reachable from the driver. */
  String apiAddress(String nodeId);

  /** Sets the cluster up (network, configurations) and starts every node. */
  void startAll() throws IOException;

  /** Starts a node that is not running (after {@link #kill}); its data is kept. */
  void start(String nodeId) throws IOException;

  /** SIGKILL: the node stops at once, as in a crash. */
  void kill(String nodeId);

  /** SIGSTOP: the node freezes, its sockets stay open. */
  void pause(String nodeId);

  /** SIGCONT. */
  void resume(String nodeId);

  /** Whether the node's process is alive (paused counts as alive). */
  boolean isAlive(String nodeId);

  /** The current pid of each running node. */
  Map<String, Long> pids();

  /** Network faults, if this launcher can make them. */
  Optional<NetworkFaults> network();

  /**
   * Nodes laid out and networked but not in the first group (after {@link #nodeIds()}): the slots
   * the membership nemesis adds. Each starts as a joiner ({@code cluster.join=true}) when started.
   */
  default List<String> spareIds() {
    return List.of();
  }

  /**
   * Stops the node and makes it what a new machine under its id would be: its data deleted, its
   * configuration a joiner's ({@code cluster.join=true}), its HSM and certificate kept. Not
   * started. Used after the node left the group, so a restart never brings back its old log.
   */
  default void resetToJoiner(String nodeId) throws IOException {
    throw new UnsupportedOperationException("this launcher cannot reset a node to a joiner");
  }

  /** host:port of a node's Raft server, as the other nodes dial it. */
  default String raftAddress(String nodeId) {
    throw new UnsupportedOperationException("this launcher does not expose Raft addresses");
  }

  /** The region a node's configuration names. */
  default String region(String nodeId) {
    return "local";
  }

  /** Stops every node and removes what the launcher created. Idempotent. */
  @Override
  void close();
}
