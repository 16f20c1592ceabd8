package io.keyrotor.client.testing;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;

/**
 * A real gRPC server on a loopback port serving scripted services: the network peer of the SDK
 * under test. Close it to stop the server.
 */
public final class FakeNode implements AutoCloseable {

  private final Server server;

  private FakeNode(Server server) {
    this.server = server;
  }

  /** Starts a server on 127.0.0.1 with a free port. */
  public static FakeNode start(BindableService... services) {
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    for (BindableService service : services) {
      builder.addService(service);
    }
    try {
      return new FakeNode(builder.build().start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code 127.0.0.1:port}. */
  public String address() {
    return InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.getPort();
  }

  /** An address where nothing listens: connections are refused. */
  public static String downAddress() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return InetAddress.getLoopbackAddress().getHostAddress() + ":" + socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
