package io.keyrotor.chaos.launcher;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The network of one namespace run: a bridge {@code krcbr<run>} with the host at 10.77.0.254, and
 * per node a namespace {@code krc-<run>-n<i>} joined to the bridge by a veth pair, {@code eth0}
 * 10.77.0.i/24 inside, and an nft table {@code inet chaos} with input and output chains for the
 * faults. Also finds and deletes what an earlier, crashed run left behind.
 */
final class NamespaceNetwork {
  /** Names of everything a namespace run creates start with this. */
  static final String PREFIX = "krc";

  static final String SUBNET = "10.77.0";

  private final String runTag;
  private final List<String> nodeIds;
  private final String bridge;

  NamespaceNetwork(String runTag, List<String> nodeIds) {
    this.runTag = runTag;
    this.nodeIds = List.copyOf(nodeIds);
    this.bridge = PREFIX + "br" + runTag;
  }

  String namespace(String nodeId) {
    return PREFIX + "-" + runTag + "-" + nodeId;
  }

  /** The node's address on the bridge. */
  static String address(String nodeId) {
    return SUBNET + "." + Integer.parseInt(nodeId.substring(1));
  }

  /** The host's end of the node's veth pair. */
  private String hostVeth(String nodeId) {
    return PREFIX + "v" + runTag + nodeId;
  }

  /** A command run inside the node's namespace. */
  List<String> inNamespace(String nodeId, String... command) {
    return Shell.join(List.of("ip", "netns", "exec", namespace(nodeId)), command);
  }

  void create() throws IOException {
    Shell.check("ip", "link", "add", bridge, "type", "bridge");
    Shell.check("ip", "addr", "add", SUBNET + ".254/24", "dev", bridge);
    Shell.check("ip", "link", "set", bridge, "up");
    for (String id : nodeIds) {
      String ns = namespace(id);
      String hostSide = hostVeth(id);
      String nsSide = PREFIX + "p" + runTag + id;
      Shell.check("ip", "netns", "add", ns);
      Shell.check("ip", "link", "add", hostSide, "type", "veth", "peer", "name", nsSide);
      Shell.check("ip", "link", "set", nsSide, "netns", ns);
      Shell.check("ip", "link", "set", hostSide, "master", bridge, "up");
      Shell.check("ip", "-n", ns, "link", "set", "lo", "up");
      Shell.check("ip", "-n", ns, "link", "set", nsSide, "name", "eth0");
      Shell.check("ip", "-n", ns, "addr", "add", address(id) + "/24", "dev", "eth0");
      Shell.check("ip", "-n", ns, "link", "set", "eth0", "up");
      Shell.run(
              inNamespace(id, "nft", "-f", "-"),
              """
              table inet chaos {
                chain input  { type filter hook input  priority -10; policy accept; }
                chain output { type filter hook output priority -10; policy accept; }
              }
              """,
              Duration.ofSeconds(10))
          .orThrow();
    }
  }

  /** Kills whatever still runs in the namespaces, then deletes them, the veths and the bridge. */
  void delete() {
    for (String id : nodeIds) {
      deleteNamespace(namespace(id));
      Shell.run("ip", "link", "del", hostVeth(id));
    }
    Shell.run("ip", "link", "del", bridge);
  }

  /** Kills and deletes whatever an earlier run with this prefix left behind. */
  static List<String> reapLeftovers() {
    List<String> reaped = new ArrayList<>();
    for (String line : Shell.run("ip", "netns", "list").stdout().split("\n", -1)) {
      String ns = line.strip().split("\\s+", -1)[0];
      if (!ns.startsWith(PREFIX + "-")) {
        continue;
      }
      deleteNamespace(ns);
      reaped.add(ns);
    }
    Pattern link = Pattern.compile("^\\d+:\\s+([^:@\\s]+)");
    for (String line : Shell.run("ip", "-o", "link", "show").stdout().split("\n", -1)) {
      Matcher m = link.matcher(line);
      if (m.find() && m.group(1).startsWith(PREFIX)) {
        Shell.run("ip", "link", "del", m.group(1));
        reaped.add(m.group(1));
      }
    }
    if (!reaped.isEmpty()) {
      System.err.println("chaos: reaped leftovers of an earlier run: " + reaped);
    }
    return reaped;
  }

  /** SIGKILLs every process in namespace {@code ns}, then deletes it. */
  private static void deleteNamespace(String ns) {
    for (String pid : Shell.run("ip", "netns", "pids", ns).stdout().split("\\s+", -1)) {
      if (!pid.isBlank()) {
        Shell.run("kill", "-9", pid.strip());
      }
    }
    Shell.run("ip", "netns", "del", ns);
  }
}
