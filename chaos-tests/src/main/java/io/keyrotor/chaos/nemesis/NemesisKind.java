package io.keyrotor.chaos.nemesis;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The faults the nemesis can inject, grouped into families for {@code --nemesis}. The membership
 * family (add, remove, replace a node, each half the time under a partition or a kill of another
 * node) needs spare node slots, which the runner lays out when it is chosen; it is in "all" but not
 * in "process".
 */
public enum NemesisKind {
  ISOLATE_NODE("isolate-node", "partition", 3),
  ISOLATE_LEADER("isolate-leader", "partition", 3),
  MAJORITY_MINORITY("majority-minority", "partition", 3),
  BRIDGE("bridge", "partition", 5),
  MAJORITIES_RING("majorities-ring", "partition", 5),
  LOSS("loss-leader", "loss", 3),
  SLOW("slow-leader", "slow", 3),
  KILL_NODE("kill-random", "kill", 3),
  KILL_LEADER("kill-leader", "kill", 3),
  PAUSE_NODE("pause-random", "pause", 3),
  PAUSE_LEADER("pause-leader", "pause", 3),
  CLOCK_BUMP("clock-bump", "clock", 3),
  CLOCK_STROBE("clock-strobe", "clock", 3),
  TRANSFER_LEADERSHIP("transfer-leadership", "transfer", 3),
  MEMBER_ADD("member-add", "membership", 3),
  MEMBER_REMOVE("member-remove", "membership", 3),
  MEMBER_REPLACE("member-replace", "membership", 3);

  private final String id;
  private final String family;
  private final int minimumNodes;

  NemesisKind(String id, String family, int minimumNodes) {
    this.id = id;
    this.family = family;
    this.minimumNodes = minimumNodes;
  }

  /** The name in the history and in {@code --nemesis}. */
  public String id() {
    return id;
  }

  public String family() {
    return family;
  }

  public boolean network() {
    return family.equals("partition") || family.equals("loss") || family.equals("slow");
  }

  /** Whether this is a membership change (it needs spare nodes). */
  public boolean membership() {
    return family.equals("membership");
  }

  /** Whether this fault makes sense on a cluster of {@code nodes}. */
  public boolean appliesTo(int nodes) {
    return nodes >= minimumNodes;
  }

  /**
   * Parses a comma-separated list of families (partition, loss, slow, kill, pause, clock,
   * transfer), fault ids (isolate-leader, ...) or the groups "network", "process" and "all".
   */
  public static Set<NemesisKind> parse(String list) {
    Set<NemesisKind> out = EnumSet.noneOf(NemesisKind.class);
    if (list == null || list.isBlank() || list.equals("none")) {
      return out;
    }
    for (String raw : list.split(",", -1)) {
      String item = raw.strip().toLowerCase(Locale.ROOT);
      boolean matched = false;
      for (NemesisKind kind : values()) {
        boolean group =
            item.equals("all")
                || (item.equals("network") && kind.network())
                || (item.equals("process") && !kind.network() && !kind.membership());
        if (group || kind.family.equals(item) || kind.id.equals(item)) {
          out.add(kind);
          matched = true;
        }
      }
      if (!matched) {
        throw new IllegalArgumentException(
            "unknown nemesis \""
                + item
                + "\" (families: partition, loss, slow, kill, pause, clock, transfer, membership; groups:"
                + " network, process, all; or a fault such as isolate-leader)");
      }
    }
    return out;
  }
}
