package io.keyrotor.chaos.launcher;

import java.util.List;

/**
 * The nft rules of the network faults, one list of words per rule as it follows {@code nft add
 * rule}, in the {@code inet chaos} table (input and output chains) that both the namespace tier and
 * the container tier give each node. A heal empties or deletes that table.
 */
public final class ChaosRules {
  private ChaosRules() {}

  /**
   * The rules that cut a node off from {@code peerAddress} in both directions: what arrives from it
   * and what leaves for it is dropped silently (the peer sees timeouts, as in a real partition).
   */
  public static List<List<String>> cutOffFrom(String peerAddress) {
    return List.of(
        List.of("inet", "chaos", "input", "ip", "saddr", peerAddress, "drop"),
        List.of("inet", "chaos", "output", "ip", "daddr", peerAddress, "drop"));
  }

  /**
   * The rule that drops {@code percent} % of the packets arriving from {@code source} (an address
   * or a prefix), at random.
   */
  public static List<String> lossFrom(String source, int percent) {
    return List.of(
        "inet",
        "chaos",
        "input",
        "ip",
        "saddr",
        source,
        "numgen",
        "random",
        "mod",
        "100",
        "lt",
        String.valueOf(percent),
        "drop");
  }
}
