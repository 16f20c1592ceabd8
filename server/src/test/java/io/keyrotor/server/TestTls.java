package io.keyrotor.server;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** gRPC channels of test callers to nodes that serve mutual TLS. */
final class TestTls {
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
}
