package io.keyrotor.chaos.launcher;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What this host lets the namespace launcher do, probed at start and recorded in run.json: root,
 * the {@code ip}, {@code nft} and {@code tc} tools, whether the kernel accepts {@code netem} and
 * {@code tbf} qdiscs (probed on a veth pair in a throw-away namespace), the bridge netfilter
 * setting and the host FORWARD policy (a DROP policy with bridge netfilter on blackholes the
 * bridge).
 *
 * @param root the driver runs as uid 0
 * @param ip iproute2's {@code ip} is on the PATH
 * @param nft {@code nft} is on the PATH
 * @param tc {@code tc} is on the PATH
 * @param netem the kernel accepts a netem qdisc
 * @param tbf the kernel accepts a tbf qdisc
 * @param nftVersion {@code nft --version}, or empty
 * @param kernel the kernel release
 * @param bridgeNfCallIptables {@code /proc/sys/net/bridge/bridge-nf-call-iptables}, or -1
 * @param forwardPolicyDrop a host FORWARD chain has policy drop
 */
public record HostCapabilities(
    boolean root,
    boolean ip,
    boolean nft,
    boolean tc,
    boolean netem,
    boolean tbf,
    String nftVersion,
    String kernel,
    int bridgeNfCallIptables,
    boolean forwardPolicyDrop) {

  /** Probes the host (a few short commands; the qdisc probes need root). */
  public static HostCapabilities probe() {
    boolean root = "0".equals(Shell.run("id", "-u").stdout().strip());
    boolean ip = Shell.onPath("ip");
    boolean nft = Shell.onPath("nft");
    boolean tc = Shell.onPath("tc");
    String nftVersion = nft ? Shell.run("nft", "--version").stdout().strip() : "";
    String kernel = System.getProperty("os.version", "?");
    int brNf = -1;
    try {
      brNf =
          Integer.parseInt(
              Files.readString(Path.of("/proc/sys/net/bridge/bridge-nf-call-iptables")).strip());
    } catch (Exception e) {
      // module not loaded: bridged packets skip the host's iptables hooks
    }
    boolean forwardDrop = false;
    if (root && nft) {
      String ruleset = Shell.run("nft", "list", "ruleset").stdout();
      for (String line : ruleset.split("\n", -1)) {
        String l = line.toLowerCase(Locale.ROOT);
        if (l.contains("hook forward") && l.contains("policy drop")) {
          forwardDrop = true;
        }
      }
    }
    if (root && Shell.onPath("iptables")) {
      forwardDrop |= Shell.run("iptables", "-S", "FORWARD").stdout().contains("-P FORWARD DROP");
    }
    boolean netem = false;
    boolean tbf = false;
    if (root && ip && tc) {
      String ns = "krc-probe-" + ProcessHandle.current().pid();
      if (Shell.run("ip", "netns", "add", ns).ok()) {
        try {
          // A veth pair: some kernels here have no dummy links.
          Shell.run(
              "ip", "-n", ns, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1");
          Shell.run("ip", "-n", ns, "link", "set", "probe0", "up");
          netem =
              Shell.run(
                      "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "probe0", "root",
                      "netem", "delay", "1ms")
                  .ok();
          Shell.run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "probe0", "root");
          tbf =
              Shell.run(
                      "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "probe0", "root",
                      "tbf", "rate", "256kbit", "burst", "4kb", "latency", "2s")
                  .ok();
        } finally {
          Shell.run("ip", "netns", "del", ns);
        }
      }
    }
    return new HostCapabilities(
        root, ip, nft, tc, netem, tbf, nftVersion, kernel, brNf, forwardDrop);
  }

  /** Whether the namespace launcher can run here; if not, {@link #missing()} says why. */
  public boolean namespacesUsable() {
    return missing().isEmpty();
  }

  /** What the namespace launcher needs and does not have (empty if nothing). */
  public List<String> missing() {
    List<String> out = new ArrayList<>();
    if (!root) {
      out.add("root (network namespaces need uid 0)");
    }
    if (!ip) {
      out.add("ip (apt-get install iproute2)");
    }
    if (!nft) {
      out.add("nft (apt-get install nftables)");
    }
    if (forwardPolicyDrop && bridgeNfCallIptables == 1) {
      out.add(
          "a host FORWARD policy of ACCEPT: bridged packets pass the host's FORWARD hook"
              + " (bridge-nf-call-iptables=1) and the policy is DROP, which blackholes the"
              + " cluster; set net.bridge.bridge-nf-call-iptables=0 on a dedicated CI host");
    }
    return out;
  }

  /** One line for the run summary. */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "env: kernel %s netem=%s nft=%s tbf=%s br-nf-call-iptables=%s FORWARD=%s",
        kernel,
        netem ? "yes" : "NO(tbf+nft fallback, RPC delay via the chaos hook)",
        nft ? nftVersion.replace("nftables ", "") : "NO",
        tbf ? "yes" : "NO",
        bridgeNfCallIptables < 0 ? "n/a" : String.valueOf(bridgeNfCallIptables),
        forwardPolicyDrop ? "DROP" : "ACCEPT");
  }

  public JsonObject toJson() {
    JsonObject out = new JsonObject();
    out.addProperty("root", root);
    out.addProperty("ip", ip);
    out.addProperty("nft", nft);
    out.addProperty("tc", tc);
    out.addProperty("netem", netem);
    out.addProperty("tbf", tbf);
    out.addProperty("nftVersion", nftVersion);
    out.addProperty("kernel", kernel);
    out.addProperty("bridgeNfCallIptables", bridgeNfCallIptables);
    out.addProperty("forwardPolicy", forwardPolicyDrop ? "DROP" : "ACCEPT");
    return out;
  }
}
