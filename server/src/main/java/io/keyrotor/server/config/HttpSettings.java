package io.keyrotor.server.config;

import java.util.Optional;
import java.util.Properties;

/**
 * The node's HTTPS listener for operators: Prometheus metrics at {@code /metrics} and the status
 * page at {@code /}, over mutual TLS with the node's certificate, readable by principals that may
 * read the cluster status.
 *
 * @param address where it listens ({@code http.address=HOST:PORT}; port 0 picks a free port); empty
 *     when the node serves no HTTPS: when {@code http.address} is not set, or the node runs with
 *     {@code tls.insecure=true}, where there is no certificate to serve it with (gRPC serves
 *     plaintext there; the metrics and the page are not served in plaintext at all)
 */
public record HttpSettings(Optional<String> address) {
  /** No HTTPS listener. */
  public static HttpSettings off() {
    return new HttpSettings(Optional.empty());
  }

  /** The {@code http.*} lines of {@code p}; {@code insecure} is {@code tls.insecure=true}. */
  static HttpSettings parse(Properties p, String source, boolean insecure) throws ConfigException {
    String value = p.getProperty("http.address", "").trim();
    if (value.isEmpty() || insecure) {
      return off();
    }
    int colon = value.lastIndexOf(':');
    int port;
    try {
      port = colon <= 0 ? -1 : Integer.parseInt(value.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 0 || port > 65_535) {
      throw new ConfigException(
          source + ": http.address must be HOST:PORT (port 0 to 65535), not " + value);
    }
    return new HttpSettings(Optional.of(value));
  }
}
