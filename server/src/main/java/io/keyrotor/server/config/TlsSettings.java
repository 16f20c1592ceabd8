package io.keyrotor.server.config;

import io.keyrotor.tls.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.SortedMap;

/**
 * Transport security of the node's API and Raft ports ({@code tls.*}).
 *
 * @param files the node's certificate, key and trusted CA certificates ({@code tls.certificate},
 *     {@code tls.private-key}, {@code tls.ca}); empty only when {@code insecure}
 * @param insecure plaintext on loopback addresses only ({@code tls.insecure=true})
 * @param reloadInterval how often a handshake looks for changed files ({@code tls.reload-interval})
 * @param expiryWarning status warns when the certificate expires within this ({@code
 *     tls.expiry-warning})
 */
public record TlsSettings(
    Optional<TlsFiles> files, boolean insecure, Duration reloadInterval, Duration expiryWarning) {

  /** How often changed TLS files are looked for, unless {@code tls.reload-interval} says. */
  public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(10);

  /** How long before expiry status warns, unless {@code tls.expiry-warning} says. */
  public static final Duration DEFAULT_EXPIRY_WARNING = Duration.ofDays(30);

  private static final List<String> FILE_KEYS =
      List.of("tls.certificate", "tls.private-key", "tls.ca");

  public TlsSettings {
    if (files.isPresent() == insecure) {
      throw new IllegalArgumentException("either TLS files or insecure, exactly one");
    }
  }

  /** Mutual TLS with {@code files}, the default intervals. */
  public static TlsSettings mutual(TlsFiles files) {
    return new TlsSettings(
        Optional.of(files), false, DEFAULT_RELOAD_INTERVAL, DEFAULT_EXPIRY_WARNING);
  }

  /** Plaintext (loopback only). */
  public static TlsSettings plaintext() {
    return new TlsSettings(Optional.empty(), true, DEFAULT_RELOAD_INTERVAL, DEFAULT_EXPIRY_WARNING);
  }

  /**
   * The {@code tls.*} lines of {@code p}: the three files resolved against {@code base}, or {@code
   * tls.insecure=true} when every address of {@code peers} is a loopback address.
   */
  static TlsSettings parse(
      Properties p, Path base, String source, SortedMap<String, NodeConfig.Peer> peers)
      throws ConfigException {
    ConfigFields r = new ConfigFields(p, source);
    Duration reload = r.duration("tls.reload-interval", "10s");
    if (reload.isZero()) {
      throw new ConfigException(source + ": tls.reload-interval must be positive");
    }
    Duration warning = r.duration("tls.expiry-warning", "30d");
    String insecureValue = r.optional("tls.insecure", "false");
    if (!insecureValue.equals("true") && !insecureValue.equals("false")) {
      throw new ConfigException(source + ": tls.insecure must be true or false");
    }
    boolean insecure = insecureValue.equals("true");
    List<String> given = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String key : FILE_KEYS) {
      (r.optional(key, "").isEmpty() ? missing : given).add(key);
    }
    if (insecure) {
      if (!given.isEmpty()) {
        throw new ConfigException(
            source + ": tls.insecure=true and " + given + " contradict each other; remove one");
      }
      requireLoopback(source, peers);
      return new TlsSettings(Optional.empty(), true, reload, warning);
    }
    if (given.isEmpty()) {
      throw new ConfigException(
          source
              + ": no transport security configured: set tls.certificate, tls.private-key and"
              + " tls.ca (PEM files of the node's certificate, its key and the CA that issues"
              + " callers' and peers' certificates), or tls.insecure=true for plaintext on"
              + " loopback addresses only");
    }
    if (!missing.isEmpty()) {
      throw new ConfigException(
          source + ": " + given + " set but " + missing + " missing: mutual TLS needs all three");
    }
    return new TlsSettings(
        Optional.of(
            new TlsFiles(
                base.resolve(r.required("tls.certificate")).normalize(),
                base.resolve(r.required("tls.private-key")).normalize(),
                base.resolve(r.required("tls.ca")).normalize())),
        false,
        reload,
        warning);
  }

  private static void requireLoopback(String source, SortedMap<String, NodeConfig.Peer> peers)
      throws ConfigException {
    for (NodeConfig.Peer peer : peers.values()) {
      for (String address : List.of(peer.raftAddress(), peer.apiAddress())) {
        if (!isLoopback(address)) {
          throw new ConfigException(
              source
                  + ": tls.insecure=true is refused because "
                  + address
                  + " (peer "
                  + peer.id()
                  + ") is not a loopback address: plaintext is allowed only when every"
                  + " address is 127.0.0.1, ::1 or localhost; configure tls.certificate,"
                  + " tls.private-key and tls.ca instead");
        }
      }
    }
  }

  /** True for 127.0.0.0/8, ::1 and localhost (literal addresses; no name is resolved). */
  static boolean isLoopback(String address) {
    String host = address.substring(0, address.lastIndexOf(':'));
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (host.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
      return true;
    }
    return host.equals("::1") || host.equals("0:0:0:0:0:0:0:1");
  }
}
