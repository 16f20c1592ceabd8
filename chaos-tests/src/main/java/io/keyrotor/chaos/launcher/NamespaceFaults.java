package io.keyrotor.chaos.launcher;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Network faults inside the nodes' namespaces: nft drop rules in the {@code inet chaos} table, and
 * a tbf rate limit on {@code eth0}. Every rule lives inside a namespace, so a heal flushes the
 * chains and deletes the qdisc, then checks that nothing is left.
 */
final class NamespaceFaults implements NetworkFaults {
  private final NamespaceNetwork network;
  private final List<String> nodeIds;

  NamespaceFaults(NamespaceNetwork network, List<String> nodeIds) {
    this.network = network;
    this.nodeIds = List.copyOf(nodeIds);
  }

  private void nft(String nodeId, List<String> rule) {
    List<String> command =
        Shell.join(network.inNamespace(nodeId, "nft", "add", "rule"), rule.toArray(String[]::new));
    Shell.Result result = Shell.run(command, null, Duration.ofSeconds(10));
    if (!result.ok()) {
      throw new IllegalStateException("nft failed: " + result);
    }
  }

  @Override
  public synchronized void partition(Map<String, Set<String>> grudge) {
    grudge.forEach(
        (a, others) -> {
          for (String b : others) {
            ChaosRules.cutOffFrom(NamespaceNetwork.address(b)).forEach(rule -> nft(a, rule));
            ChaosRules.cutOffFrom(NamespaceNetwork.address(a)).forEach(rule -> nft(b, rule));
          }
        });
  }

  @Override
  public synchronized void loss(String nodeId, int percent) {
    nft(nodeId, ChaosRules.lossFrom(NamespaceNetwork.SUBNET + ".0/24", percent));
  }

  @Override
  public synchronized boolean slow(String nodeId) {
    List<String> command =
        network.inNamespace(
            nodeId, "tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "256kbit", "burst",
            "4kb", "latency", "2s");
    return Shell.run(command).ok();
  }

  /**
   * Removes every drop rule and rate limit, then checks that none is left (a heal that silently
   * failed would leave a node cut off and look like a liveness bug); tries three times.
   */
  @Override
  public synchronized void heal() {
    for (String id : nodeIds) {
      String left = "";
      for (int attempt = 0; attempt < 3; attempt++) {
        Shell.run(network.inNamespace(id, "nft", "flush", "chain", "inet", "chaos", "input"));
        Shell.run(network.inNamespace(id, "nft", "flush", "chain", "inet", "chaos", "output"));
        Shell.run(network.inNamespace(id, "tc", "qdisc", "del", "dev", "eth0", "root"));
        left = faultsLeft(id);
        if (left.isEmpty()) {
          break;
        }
      }
      if (!left.isEmpty()) {
        throw new IllegalStateException("cannot heal " + id + ": " + left);
      }
    }
  }

  /** What is still in place in the node's namespace: drop rules, a tbf qdisc; empty if none. */
  private String faultsLeft(String nodeId) {
    return faultsIn(
        Shell.run(network.inNamespace(nodeId, "nft", "list", "table", "inet", "chaos")),
        Shell.run(network.inNamespace(nodeId, "tc", "qdisc", "show", "dev", "eth0")));
  }

  /**
   * What a namespace's listings show still in place: drop rules in {@code nft list table inet
   * chaos}, a tbf qdisc in {@code tc qdisc show}; a listing that failed counts too (a heal that
   * cannot be checked is not a heal). Empty if none.
   */
  static String faultsIn(Shell.Result rules, Shell.Result qdisc) {
    StringBuilder left = new StringBuilder();
    if (!rules.ok()) {
      left.append("nft list failed: ").append(rules).append("; ");
    } else if (rules.stdout().contains("drop")) {
      left.append("drop rules: ").append(rules.stdout().strip()).append("; ");
    }
    if (!qdisc.ok()) {
      left.append("tc show failed: ").append(qdisc).append("; ");
    } else if (qdisc.stdout().contains("tbf")) {
      left.append("rate limit: ").append(qdisc.stdout().strip());
    }
    return left.toString();
  }
}
