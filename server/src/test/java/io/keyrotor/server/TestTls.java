package io.keyrotor.server;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.IssuedCertificate;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;

/**
 * gRPC channels of test callers to nodes that serve mutual TLS: the cluster's own caller
 * certificates ({@code DIR/tls/admin.pem}, ...), certificates for any principal issued by the
 * cluster's development CA ({@code DIR/tls/ca.pem}, {@code ca-key.pem}), and TLS without a client
 * certificate.
 */
final class TestTls {
  /** How long certificates issued for test callers are valid. */
  static final Duration CALLER_VALIDITY = Duration.ofDays(1);

  private static final char[] NO_PASSWORD = new char[0];

  private TestTls() {}

  /** Credentials of caller {@code name} of a local cluster: {@code tls/NAME.pem}, its key, CA. */
  static ChannelCredentials credentials(Path tlsDirectory, String name) {
    TlsFiles files = TlsFiles.inDirectory(tlsDirectory, name);
    try {
      return TlsChannelCredentials.newBuilder()
          .keyManager(files.certificate().toFile(), files.privateKey().toFile())
          .trustManager(files.trustedCertificates().toFile())
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A channel to {@code address} as the cluster's {@code admin} (DIR/tls/admin.pem). */
  static ManagedChannel adminChannel(Path clusterDirectory, String address) {
    return Grpc.newChannelBuilder(address, credentials(clusterDirectory.resolve("tls"), "admin"))
        .build();
  }

  /** The development CA of the cluster in {@code clusterDirectory} (DIR/tls/ca.pem, ca-key.pem). */
  static DevelopmentCa clusterCa(Path clusterDirectory) {
    Path tls = clusterDirectory.resolve("tls");
    try {
      return DevelopmentCa.load(
          tls.resolve("ca.pem"),
          tls.resolve("ca-key.pem"),
          DevelopmentCa.DEFAULT_TRUST_DOMAIN,
          Clock.systemUTC());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A client certificate of {@code ca} whose principal ({@link io.keyrotor.tls.Identities
   * #principalOf}) is {@code principal}: a URI subject alternative name when {@code principal} is a
   * URI ({@code spiffe://...}), else the common name.
   */
  static IssuedCertificate issueCaller(DevelopmentCa ca, String principal) {
    if (!principal.contains("://")) {
      return ca.issueClient(principal, CALLER_VALIDITY);
    }
    Instant now = Instant.now();
    return ca.issue(
        new DevelopmentCa.Request(
            "workload",
            List.of(),
            List.of(principal),
            now.minus(Duration.ofMinutes(5)),
            now.plus(CALLER_VALIDITY),
            false));
  }

  /**
   * A channel to {@code address} presenting {@code certificate}, trusting the CA in {@code caFile}.
   */
  static ManagedChannel channelHolding(String address, IssuedCertificate certificate, Path caFile) {
    return Grpc.newChannelBuilder(address, credentialsHolding(certificate, caFile)).build();
  }

  /** Credentials presenting {@code certificate}, trusting the CA in {@code caFile}. */
  static ChannelCredentials credentialsHolding(IssuedCertificate certificate, Path caFile) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(
          "caller",
          certificate.privateKey(),
          NO_PASSWORD,
          certificate.chain().toArray(X509Certificate[]::new));
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, NO_PASSWORD);
      return TlsChannelCredentials.newBuilder()
          .keyManager(keys.getKeyManagers())
          .trustManager(caFile.toFile())
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot hold a test caller's certificate", e);
    }
  }

  /** A TLS channel to {@code address} that trusts the CA in {@code caFile}; no certificate. */
  static ManagedChannel channelWithoutCertificate(String address, Path caFile) {
    try {
      return Grpc.newChannelBuilder(
              address, TlsChannelCredentials.newBuilder().trustManager(caFile.toFile()).build())
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
