package io.keyrotor.bench;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.keyrotor.bench.echo.EchoMessage;
import io.keyrotor.bench.echo.EchoServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The transport ceiling: a bare gRPC echo server with the server settings keyrotor's node uses
 * (Netty transport, plaintext, the default executor, 4 MiB inbound limit), run in its own process
 * by scripts/bench so it competes for the same cores as a keyrotor node would.
 */
public final class EchoServer {
  private EchoServer() {}

  public static Server start(String host, int port) throws IOException {
    return NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
        .addService(
            new EchoServiceGrpc.EchoServiceImplBase() {
              @Override
              public void echo(EchoMessage request, StreamObserver<EchoMessage> response) {
                response.onNext(request);
                response.onCompleted();
              }
            })
        .maxInboundMessageSize(4 << 20)
        .build()
        .start();
  }

  /** Runs an echo server until killed: {@code EchoServer host port}. */
  public static void main(String[] args) throws Exception {
    Server server = start(args[0], Integer.parseInt(args[1]));
    System.out.println("echo server listening on " + args[0] + ":" + server.getPort());
    server.awaitTermination();
  }
}
