package io.keyrotor.bench;

import com.google.protobuf.CodedOutputStream;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The client stack every target of the benchmark shares ({@link KeyrotorTarget}, {@link
 * EtcdTarget}, {@link EchoTarget}): async grpc-java stubs over one Netty channel per server ({@link
 * ClusterTarget} keeps a cluster's), the direct executor (callbacks on the transport threads, which
 * only record and start the next call). keyrotor and the echo are called over mutual TLS with the
 * same kind of credentials the SDK uses ({@link #mutualTls}); etcd in plaintext, as it runs.
 * keyrotor is driven through its public API stubs (the ones the SDK uses), etcd through a minimal
 * copy of its v3 KV proto.
 */
final class Targets {
  /** The caller certificate every keyrotor target presents: {@code DIR/tls/admin.pem}. */
  static final String CALLER = "admin";

  private Targets() {}

  static ManagedChannel channel(String address, ChannelCredentials credentials) {
    return NettyChannelBuilder.forTarget(address, credentials)
        .directExecutor()
        .maxInboundMessageSize(64 << 20)
        .build();
  }

  /** Plaintext: etcd (and the echo when run with {@code --echo-plaintext}). */
  static ChannelCredentials plaintext() {
    return InsecureChannelCredentials.create();
  }

  /**
   * Mutual TLS as a cluster's caller {@value #CALLER}: {@code tlsDirectory/admin.pem} and {@code
   * admin-key.pem} presented, {@code tlsDirectory/ca.pem} trusted (the server's certificate must
   * name the address dialled). The servers speak TLS 1.3 only.
   */
  static ChannelCredentials mutualTls(Path tlsDirectory) {
    TlsFiles files = TlsFiles.inDirectory(tlsDirectory, CALLER);
    try {
      return TlsChannelCredentials.newBuilder()
          .keyManager(files.certificate().toFile(), files.privateKey().toFile())
          .trustManager(files.trustedCertificates().toFile())
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the caller certificate, its key or the CA under " + tlsDirectory, e);
    }
  }

  /** Bytes of a length-delimited field with a one-byte tag and {@code length} bytes of content. */
  static int fieldSize(int length) {
    return 1 + CodedOutputStream.computeUInt32SizeNoTag(length) + length;
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
