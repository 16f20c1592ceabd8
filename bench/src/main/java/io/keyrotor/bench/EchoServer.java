package io.keyrotor.bench;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.keyrotor.bench.echo.EchoMessage;
import io.keyrotor.bench.echo.EchoServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The transport ceiling: a bare gRPC echo server with the server settings keyrotor's node uses
 * (Netty transport, plaintext, grpc-java's default executor, 4 MiB inbound limit), run in its own
 * process by scripts/bench with the nodes' JVM options, so it competes for the same cores as a
 * keyrotor node would. It answers with a payload of the size the request asks for, so each keyrotor
 * call is compared with an echo of the same request and reply sizes.
 */
public final class EchoServer {
  private static final Map<Integer, ByteString> REPLIES = new ConcurrentHashMap<>();

  private EchoServer() {}

  public static Server start(String host, int port) throws IOException {
    return start(host, port, "default");
  }

  /**
   * Starts the echo server on {@code host:port} with the given executor.
   *
   * @param executor the server's executor: "default" (grpc-java's cached pool, as the node uses),
   *     "direct" (handlers on the transport threads) or "fixed:N" (a pool of N threads); the others
   *     exist to measure the threading model, not as baselines
   */
  public static Server start(String host, int port, String executor) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port));
    if (executor.equals("direct")) {
      builder.directExecutor();
    } else if (executor.startsWith("fixed:")) {
      builder.executor(
          java.util.concurrent.Executors.newFixedThreadPool(
              Integer.parseInt(executor.substring("fixed:".length()))));
    } else if (!executor.equals("default")) {
      throw new IllegalArgumentException("executor: default, direct or fixed:N, not " + executor);
    }
    return builder
        .addService(
            new EchoServiceGrpc.EchoServiceImplBase() {
              @Override
              public void echo(EchoMessage request, StreamObserver<EchoMessage> response) {
                int size = request.getReplySize();
                response.onNext(
                    size == 0
                        ? request
                        : EchoMessage.newBuilder()
                            .setPayload(
                                REPLIES.computeIfAbsent(
                                    size, n -> ByteString.copyFrom(new byte[n])))
                            .build());
                response.onCompleted();
              }
            })
        .maxInboundMessageSize(4 << 20)
        .build()
        .start();
  }

  /** Runs an echo server until killed: {@code EchoServer host port [executor]}. */
  public static void main(String[] args) throws Exception {
    String executor = args.length > 2 ? args[2] : "default";
    Server server = start(args[0], Integer.parseInt(args[1]), executor);
    System.out.println(
        "echo server listening on " + args[0] + ":" + server.getPort() + ", executor " + executor);
    server.awaitTermination();
  }
}
