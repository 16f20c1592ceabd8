package io.keyrotor.tls;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where one end of mutual TLS finds its PEM files: its certificate (and chain), its PKCS#8 private
 * key, and the CA certificates it trusts for the other end.
 */
public record TlsFiles(Path certificate, Path privateKey, Path trustedCertificates) {
  public TlsFiles {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(trustedCertificates, "trustedCertificates");
  }

  /**
   * The files of a development cluster's caller or node {@code name} under {@code tlsDirectory}:
   * {@code NAME.pem}, {@code NAME-key.pem} and {@code ca.pem}.
   */
  public static TlsFiles inDirectory(Path tlsDirectory, String name) {
    return new TlsFiles(
        tlsDirectory.resolve(name + ".pem"),
        tlsDirectory.resolve(name + "-key.pem"),
        tlsDirectory.resolve("ca.pem"));
  }
}
