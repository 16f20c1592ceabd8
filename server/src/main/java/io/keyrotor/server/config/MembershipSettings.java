package io.keyrotor.server.config;

import java.util.Properties;

/**
 * How the node takes part in changes of the cluster's membership.
 *
 * @param join the node was not a member when the cluster started and joins it ({@code
 *     cluster.join=true}): its Raft server starts outside the group and waits until an
 *     administrator adds it ({@code keyrotor cluster add-node}); it catches up as a listener,
 *     proves with its HSM that it can unwrap its zones' KEKs, and only then becomes a voter. Its
 *     peers list names the members it can reach and itself.
 */
public record MembershipSettings(boolean join) {
  public static MembershipSettings defaults() {
    return new MembershipSettings(false);
  }

  /** The {@code cluster.join} line of {@code p} (false when absent). */
  static MembershipSettings parse(Properties p, String source) throws ConfigException {
    String value = p.getProperty("cluster.join", "false").trim();
    if (!value.equals("true") && !value.equals("false")) {
      throw new ConfigException(source + ": cluster.join must be true or false, not " + value);
    }
    return new MembershipSettings(Boolean.parseBoolean(value));
  }
}
