package io.keyrotor.chaos.workload;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The workloads of chaos-tests/README.md ("Workloads"), each on its own keys (prefix = the key name
 * prefix).
 */
public enum Workload {
  /** Rotations as an append-only list: rotate, list-versions. */
  W1("w1", 30),
  /** The primary version as a compare-and-set register with a revision. */
  W2("w2", 30),
  /** Encrypt on one node, decrypt on another (needs the data plane). */
  W3("w3", 15),
  /** Activation timestamps read from every node (on W2's keys). */
  W4("w4", 10),
  /** Scheduled rotation: keys with a short rotation period (needs the rotation scheduler). */
  W5("w5", 5),
  /** Disable-then-use (needs the data plane). */
  W6("w6", 10);

  private final String prefix;
  private final int weight;

  Workload(String prefix, int weight) {
    this.prefix = prefix;
    this.weight = weight;
  }

  public String prefix() {
    return prefix;
  }

  /** Relative share of operations. */
  public int weight() {
    return weight;
  }

  /** Parses "W1,W2,..." or "all". */
  public static Set<Workload> parse(String list) {
    if (list == null || list.isBlank() || list.equalsIgnoreCase("all")) {
      return EnumSet.allOf(Workload.class);
    }
    Set<Workload> out = EnumSet.noneOf(Workload.class);
    for (String item : list.split(",", -1)) {
      out.add(Workload.valueOf(item.strip().toUpperCase(Locale.ROOT)));
    }
    return out;
  }

  /** The workload a key belongs to, by its name's prefix (null if none). */
  public static Workload ofKey(String keyOrNull) {
    if (keyOrNull == null) {
      return null;
    }
    for (Workload w : values()) {
      if (keyOrNull.startsWith(w.prefix + "-")) {
        return w;
      }
    }
    return null;
  }
}
