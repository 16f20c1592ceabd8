package io.keyrotor.consensus;

import io.keyrotor.tls.Identities;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The trust manager of the Raft port, at both ends: a chain is accepted only if it verifies against
 * the trusted CA (the node's reloading credentials) and its leaf names, as a node URI, a member of
 * the group's current configuration. When this node connects out, the certificate must moreover
 * name the member it meant to reach: the member whose Raft address is the host and port the
 * connection was opened to (the TLS engine carries them).
 */
final class PeerTrustManager extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager ca;
  private final Membership membership;

  PeerTrustManager(X509ExtendedTrustManager ca, Membership membership) {
    this.ca = ca;
    this.membership = membership;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    ca.checkClientTrusted(chain, authType, engine);
    requireMember(chain, null);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    ca.checkServerTrusted(chain, authType, engine);
    requireMember(chain, intendedPeer(engine));
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    ca.checkClientTrusted(chain, authType, socket);
    requireMember(chain, null);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    ca.checkServerTrusted(chain, authType, socket);
    requireMember(chain, null);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    ca.checkClientTrusted(chain, authType);
    requireMember(chain, null);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    ca.checkServerTrusted(chain, authType);
    requireMember(chain, null);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return ca.getAcceptedIssuers();
  }

  /** The member whose Raft address the engine was opened to, or null if none is. */
  private String intendedPeer(SSLEngine engine) {
    if (engine == null || engine.getPeerHost() == null) {
      return null;
    }
    return memberAt(engine.getPeerHost() + ":" + engine.getPeerPort());
  }

  /** The member whose Raft address is {@code target} (host:port), or null if none is. */
  String memberAt(String target) {
    for (Map.Entry<String, String> member : membership.members().entrySet()) {
      if (member.getValue().equals(target)) {
        return member.getKey();
      }
    }
    return null;
  }

  /**
   * Passes if the leaf of {@code chain} names a current member ({@code intended} when not null).
   */
  void requireMember(X509Certificate[] chain, String intended) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("no certificate");
    }
    List<String> named = Identities.nodeIdsOf(chain[0]);
    if (intended != null) {
      if (!named.contains(intended)) {
        throw new CertificateException(
            "the Raft peer at this address is " + intended + " but its certificate names " + named);
      }
      return;
    }
    Map<String, String> members = membership.members();
    if (named.stream().noneMatch(members::containsKey)) {
      throw new CertificateException(
          "the certificate names no member of the Raft group "
              + members.keySet()
              + " (it names "
              + (named.isEmpty() ? "no node" : named)
              + ")");
    }
  }
}
