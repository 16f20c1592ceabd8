package io.keyrotor.server.transport;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Principal;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A gRPC server on a loopback port secured by an {@link ApiTransport}, as a node's API port is: one
 * service, {@code test.WhoAmI/Ask}, behind the authentication interceptor, that answers the
 * caller's principal and the serial number (hex) of its client certificate; and the health service,
 * which is not behind it.
 */
final class TlsTestServer implements AutoCloseable {
  private static final Context.Key<String> CLIENT_SERIAL = Context.key("test-client-serial");
  static final MethodDescriptor<String, String> WHO_AM_I =
      MethodDescriptor.<String, String>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.WhoAmI/Ask")
          .setRequestMarshaller(new Utf8())
          .setResponseMarshaller(new Utf8())
          .build();

  final Server server;

  TlsTestServer(ApiTransport transport) throws IOException {
    ServerServiceDefinition whoAmI =
        ServerServiceDefinition.builder("test.WhoAmI")
            .addMethod(
                WHO_AM_I,
                ServerCalls.asyncUnaryCall(
                    (request, response) -> {
                      response.onNext(
                          Caller.current().map(Principal::name).orElse("(no principal)")
                              + " "
                              + CLIENT_SERIAL.get());
                      response.onCompleted();
                    }))
            .build();
    HealthStatusManager health = new HealthStatusManager();
    server =
        transport
            .secure(
                NettyServerBuilder.forAddress(
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .addService(
                        ServerInterceptors.intercept(
                            whoAmI, new ClientSerial(), transport.authentication()))
                    .addService(health.getHealthService()))
            .build()
            .start();
  }

  String address() {
    return "127.0.0.1:" + server.getPort();
  }

  ManagedChannel channel(ChannelCredentials credentials) {
    return Grpc.newChannelBuilder(address(), credentials).build();
  }

  /** The principal the server authenticated the caller of {@code channel} as. */
  static String whoAmI(Channel channel) {
    return ClientCalls.blockingUnaryCall(
        channel, WHO_AM_I, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "?");
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

  /** Puts the serial number of the call's client certificate (or "-") into the context. */
  private static final class ClientSerial implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      String serial = "-";
      SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
      if (session != null) {
        try {
          serial =
              ((X509Certificate) session.getPeerCertificates()[0]).getSerialNumber().toString(16);
        } catch (SSLPeerUnverifiedException e) {
          serial = "-";
        }
      }
      return Contexts.interceptCall(
          Context.current().withValue(CLIENT_SERIAL, serial), call, headers, next);
    }
  }

  private static final class Utf8 implements MethodDescriptor.Marshaller<String> {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
