package io.keyrotor.client.testing;

import io.grpc.BindableService;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A real gRPC server on a loopback port serving scripted services over mutual TLS: the network peer
 * of the SDK under test. It presents a node certificate and requires a client certificate from the
 * same CA ({@link TestPki#shared()} unless given another). Records the subject of each caller's
 * certificate. Close it to stop the server.
 */
public final class FakeNode implements AutoCloseable {

  private final Server server;
  private final List<String> callerSubjects;

  private FakeNode(Server server, List<String> callerSubjects) {
    this.server = server;
    this.callerSubjects = callerSubjects;
  }

  /** Starts a server on 127.0.0.1 with a free port, with the shared test certificates. */
  public static FakeNode start(BindableService... services) {
    return start(TestPki.shared(), null, services);
  }

  /**
   * Starts a server on 127.0.0.1 with a free port.
   *
   * @param pki whose {@code node} certificate the server presents and whose CA it trusts
   * @param maxConnectionAge how long a connection may live before the server ends it gracefully
   *     (the client then opens a new one), or null for no limit
   */
  public static FakeNode start(
      TestPki pki, Duration maxConnectionAge, BindableService... services) {
    try {
      ServerCredentials credentials =
          TlsServerCredentials.newBuilder()
              .keyManager(pki.certificate("node").toFile(), pki.privateKey("node").toFile())
              .trustManager(pki.caCertificate().toFile())
              .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
              .build();
      return start(credentials, maxConnectionAge, services);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a server with {@code credentials} (plaintext: {@code InsecureServerCredentials}). */
  public static FakeNode start(
      ServerCredentials credentials, Duration maxConnectionAge, BindableService... services) {
    List<String> subjects = new CopyOnWriteArrayList<>();
    ServerInterceptor recorder = new CallerRecorder(subjects);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), credentials);
    if (maxConnectionAge != null) {
      builder
          .maxConnectionAge(maxConnectionAge.toMillis(), TimeUnit.MILLISECONDS)
          .maxConnectionAgeGrace(10, TimeUnit.SECONDS);
    }
    for (BindableService service : services) {
      builder.addService(ServerInterceptors.intercept(service, recorder));
    }
    try {
      return new FakeNode(builder.build().start(), subjects);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code 127.0.0.1:port}. */
  public String address() {
    return InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.getPort();
  }

  /** The port the server listens on. */
  public int port() {
    return server.getPort();
  }

  /**
   * The subject (RFC 2253) of the certificate each call came with, in order of arrival; {@code
   * "none"} for a call without one.
   */
  public List<String> callerSubjects() {
    return List.copyOf(callerSubjects);
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

  /** Records the subject of the caller's certificate of every call. */
  private static final class CallerRecorder implements ServerInterceptor {
    private final List<String> subjects;

    CallerRecorder(List<String> subjects) {
      this.subjects = subjects;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      subjects.add(subjectOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)));
      return next.startCall(call, headers);
    }

    private static String subjectOf(SSLSession session) {
      if (session == null) {
        return "none";
      }
      try {
        Certificate[] peer = session.getPeerCertificates();
        return ((X509Certificate) peer[0]).getSubjectX500Principal().getName();
      } catch (SSLPeerUnverifiedException e) {
        return "none";
      }
    }
  }
}
