package io.keyrotor.consensus;

import io.keyrotor.tls.ReloadingCredentials;
import java.util.Objects;

/**
 * How a node's Raft port talks to its peers: mutual TLS with the node's certificate (production),
 * or plaintext, which keyrotor allows on loopback only (the server refuses it on any other
 * address).
 */
public sealed interface RaftTransport {

  /**
   * Mutual TLS on the Raft port, for the Ratis server, client and admin protocols and for this
   * node's own Ratis client, with the node's certificate at both ends. A peer is accepted only if
   * its certificate chains to the trusted CA and names (as its node URI) a member of the group's
   * current configuration. The credentials reload changed files, so a rotated certificate is used
   * for new connections without a restart.
   */
  static RaftTransport mutualTls(ReloadingCredentials credentials) {
    return new MutualTls(credentials);
  }

  /** Plaintext, for clusters on loopback only: no peer is authenticated. */
  static RaftTransport insecureLoopback() {
    return InsecureLoopback.INSTANCE;
  }

  /** Whether this transport authenticates peers. */
  default boolean authenticated() {
    return this instanceof MutualTls;
  }

  /** See {@link #mutualTls}. */
  record MutualTls(ReloadingCredentials credentials) implements RaftTransport {
    public MutualTls {
      Objects.requireNonNull(credentials, "credentials");
    }

    @Override
    public String toString() {
      return "mutual TLS (" + credentials.files().certificate() + ")";
    }
  }

  /** See {@link #insecureLoopback}. */
  enum InsecureLoopback implements RaftTransport {
    INSTANCE;

    @Override
    public String toString() {
      return "insecure (loopback only)";
    }
  }
}
