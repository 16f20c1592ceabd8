package io.keyrotor.server.access;

import java.util.Objects;

/**
 * The authenticated identity of a caller: the first URI subject alternative name of its client
 * certificate (such as {@code spiffe://example.org/service/payments}), or, when it has none, the
 * common name of its subject (such as {@code admin}). Authorisation policies bind roles to these
 * names; a request never names its own principal.
 *
 * @param name the identity, never empty
 */
public record Principal(String name) {
  /**
   * The caller of a node that serves plaintext (the explicit {@code insecure} setting, loopback
   * only): there is no certificate, so there is no identity to check.
   */
  public static final Principal UNAUTHENTICATED_LOOPBACK = new Principal("insecure-loopback");

  public Principal {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a principal has a name");
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
