package io.keyrotor.chaos.launcher;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts, stops and faults the node processes of one chaos run. The network-namespace launcher
 * ({@link NetnsLauncher}) is the one this module ships; the container tier's launcher (test
 * sources, {@code io.keyrotor.chaos.containers.ContainerCluster}) implements the same interface
 * with Testcontainers (containers for nodes, the engine's kill, start, pause and unpause for the
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

  /** Spare nodes for the membership nemesis, if this launcher lays them out. */
  default Optional<SpareNodes> spares() {
    return Optional.empty();
  }

  /** Stops every node and removes what the launcher created. Idempotent. */
  @Override
  void close();
}
