package io.keyrotor.bench;

import com.google.protobuf.CodedOutputStream;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * The client stack every target of the benchmark shares ({@link KeyrotorTarget}, {@link
 * EtcdTarget}, {@link EchoTarget}): async grpc-java stubs over one Netty channel per server ({@link
 * ClusterTarget} keeps a cluster's), plaintext, the direct executor (callbacks on the transport
 * threads, which only record and start the next call). keyrotor is driven through its public API
 * stubs (the ones the SDK uses), etcd through a minimal copy of its v3 KV proto.
 */
final class Targets {
  private Targets() {}

  static ManagedChannel channel(String address) {
    return NettyChannelBuilder.forTarget(address)
        .usePlaintext()
        .directExecutor()
        .maxInboundMessageSize(64 << 20)
        .build();
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
