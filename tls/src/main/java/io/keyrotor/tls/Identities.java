package io.keyrotor.tls;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * The identities keyrotor reads from certificates.
 *
 * <ul>
 *   <li>A caller's <b>principal</b> is the first URI subject alternative name of its certificate (a
 *       SPIFFE id such as {@code spiffe://example.org/service/payments}), or, when it has none, the
 *       common name of its subject (the development CA's {@code admin} and {@code service}).
 *   <li>A node's <b>id</b> is named by a URI subject alternative name {@code
 *       spiffe://TRUST-DOMAIN/keyrotor/node/NODE-ID}; a Raft peer is accepted only if its
 *       certificate names a member of the current configuration this way.
 * </ul>
 */
public final class Identities {
  private static final int URI_NAME = 6;
  private static final String NODE_PATH = "/keyrotor/node/";
  private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  private Identities() {}

  /** The URI that names node {@code nodeId} in a certificate of {@code trustDomain}. */
  public static String nodeUri(String trustDomain, String nodeId) {
    if (!NODE_ID.matcher(nodeId).matches()) {
      throw new IllegalArgumentException("not a node id: " + nodeId);
    }
    return "spiffe://" + trustDomain + NODE_PATH + nodeId;
  }

  /**
   * The principal of a caller's certificate: its first URI subject alternative name, else its
   * subject's common name; empty if it has neither.
   */
  public static Optional<String> principalOf(X509Certificate certificate) {
    List<String> uris = uris(certificate);
    if (!uris.isEmpty()) {
      return Optional.of(uris.get(0));
    }
    return commonName(certificate);
  }

  /** The node ids the certificate names ({@code spiffe://.../keyrotor/node/ID} URIs). */
  public static List<String> nodeIdsOf(X509Certificate certificate) {
    List<String> ids = new ArrayList<>();
    for (String uri : uris(certificate)) {
      if (!uri.startsWith("spiffe://")) {
        continue;
      }
      int path = uri.indexOf(NODE_PATH, "spiffe://".length());
      if (path < 0 || uri.indexOf('/', "spiffe://".length()) != path) {
        continue;
      }
      String id = uri.substring(path + NODE_PATH.length());
      if (NODE_ID.matcher(id).matches()) {
        ids.add(id);
      }
    }
    return List.copyOf(ids);
  }

  /** The URI subject alternative names, in the certificate's order. */
  public static List<String> uris(X509Certificate certificate) {
    List<String> uris = new ArrayList<>();
    Collection<List<?>> names;
    try {
      names = certificate.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return List.of();
    }
    if (names == null) {
      return List.of();
    }
    for (List<?> name : names) {
      if (name.size() == 2
          && name.get(0) instanceof Integer type
          && type == URI_NAME
          && name.get(1) instanceof String value) {
        uris.add(value);
      }
    }
    return uris;
  }

  /** The subject's common name, if it has one. */
  public static Optional<String> commonName(X509Certificate certificate) {
    try {
      LdapName name = new LdapName(certificate.getSubjectX500Principal().getName());
      for (Rdn rdn : name.getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          String value = rdn.getValue().toString();
          return value.isEmpty() ? Optional.empty() : Optional.of(value);
        }
      }
    } catch (InvalidNameException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }
}
