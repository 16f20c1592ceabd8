package io.keyrotor.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.grpc.ManagedChannel;
import io.keyrotor.bench.echo.EchoMessage;
import io.keyrotor.bench.echo.EchoServiceGrpc;
import java.nio.file.Path;

/**
 * The bare gRPC echo baseline, called over mutual TLS (the certificates {@link EchoServer} wrote)
 * as keyrotor is, or in plaintext when the run asks for the old baseline.
 */
final class EchoTarget implements AutoCloseable {
  /** The echo over mutual TLS: the baseline of the data-plane targets. */
  static final String MUTUAL_TLS = "echo-mtls";

  /** The plaintext echo ({@code --echo-plaintext}): recorded, no target is evaluated on it. */
  static final String PLAINTEXT = "echo-plaintext";

  private final String name;
  private final ManagedChannel channel;
  private final EchoServiceGrpc.EchoServiceFutureStub stub;

  /**
   * @param tlsDirectory where {@link EchoServer} wrote its CA and the caller certificate, or null
   *     for a plaintext echo server
   */
  EchoTarget(String address, Path tlsDirectory) {
    this.name = tlsDirectory == null ? PLAINTEXT : MUTUAL_TLS;
    this.channel =
        Targets.channel(
            address, tlsDirectory == null ? Targets.plaintext() : Targets.mutualTls(tlsDirectory));
    this.stub = EchoServiceGrpc.newFutureStub(channel);
  }

  /** The target name of this echo's rows: {@value #MUTUAL_TLS} or {@value #PLAINTEXT}. */
  String name() {
    return name;
  }

  /** Echo calls whose request and reply have the given serialized sizes (within a byte). */
  Operation echo(int requestBytes, int replyBytes) {
    EchoMessage message = message(requestBytes, replyBytes);
    return sequence -> stub.echo(message);
  }

  /** The request that makes the echo's request and reply the given serialized sizes. */
  static EchoMessage message(int requestBytes, int replyBytes) {
    int replyPayload = payloadFor(replyBytes, 0);
    int requestPayload = payloadFor(requestBytes, replyPayload);
    return EchoMessage.newBuilder()
        .setPayload(ByteString.copyFrom(new byte[requestPayload]))
        .setReplySize(replyPayload)
        .build();
  }

  /**
   * The payload length n for which a message {payload: n bytes, reply_size: replySize} has about
   * {@code total} bytes (reply_size omitted when 0).
   */
  static int payloadFor(int total, int replySize) {
    int fixed = replySize == 0 ? 0 : 1 + CodedOutputStream.computeUInt32SizeNoTag(replySize);
    for (int n = Math.max(0, total - fixed); n >= 0; n--) {
      if (Targets.fieldSize(n) + fixed <= total) {
        return n;
      }
    }
    return 0;
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
