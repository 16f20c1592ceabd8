package io.keyrotor.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A certificate and its private key, as a CA issued them.
 *
 * @param chain the certificate first, then the certificates that issued it (without the root)
 */
public record IssuedCertificate(List<X509Certificate> chain, PrivateKey privateKey) {
  public IssuedCertificate {
    chain = List.copyOf(chain);
    Objects.requireNonNull(privateKey, "privateKey");
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("an issued certificate has a certificate");
    }
  }

  /** The certificate itself. */
  public X509Certificate certificate() {
    return chain.get(0);
  }

  /** Writes the chain to {@code certificateFile} and the key (0600, PKCS#8) to {@code keyFile}. */
  public void write(Path certificateFile, Path keyFile) throws IOException {
    PemFiles.writePrivateKey(keyFile, privateKey);
    PemFiles.writeCertificates(certificateFile, chain);
  }

  @Override
  public String toString() {
    return "IssuedCertificate[" + certificate().getSubjectX500Principal().getName() + "]";
  }
}
