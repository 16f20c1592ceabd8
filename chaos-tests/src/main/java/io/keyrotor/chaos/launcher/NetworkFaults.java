package io.keyrotor.chaos.launcher;

import java.util.Map;
import java.util.Set;

/** Network faults between nodes; the driver keeps reaching every node, like Jepsen's control. */
public interface NetworkFaults {
  /**
   * Drops all traffic between each node and the nodes it holds a grudge against, in both
   * directions, on both sides (silent drops: the peers see timeouts, as in a real partition).
   */
  void partition(Map<String, Set<String>> grudge);

  /** Drops {@code percent} % of the packets arriving at {@code nodeId}, at random. */
  void loss(String nodeId, int percent);

  /** Throttles {@code nodeId}'s link (tbf); false if the kernel cannot. */
  boolean slow(String nodeId);

  /** Removes every network fault. Idempotent. */
  void heal();
}
