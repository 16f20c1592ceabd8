package io.keyrotor.bench;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.stub.StreamObserver;
import io.keyrotor.bench.echo.EchoMessage;
import io.keyrotor.bench.echo.EchoServiceGrpc;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The transport ceiling: a bare gRPC echo server with the server settings keyrotor's node uses
 * (Netty transport, mutual TLS 1.3 through the JDK's TLS engine, the node's executor, 4 MiB inbound
 * limit), run in its own process by scripts/bench with the nodes' JVM options, so it competes for
 * the same cores as a keyrotor node would. It answers with a payload of the size the request asks
 * for, so each keyrotor call is compared with an echo of the same request and reply sizes.
 *
 * <p>With a TLS directory it makes a development CA there and serves TLS 1.3 only with a node
 * certificate for its host from that CA, and requires every caller to present a certificate of that
 * CA (the handshake fails without one). It writes {@code ca.pem}, {@code echo.pem} + {@code
 * echo-key.pem} and a caller certificate {@code admin.pem} + {@code admin-key.pem}, the names a
 * cluster's {@code DIR/tls} uses, so a client calls it with the same code as a keyrotor cluster.
 * The node authenticates and authorises every call as well; that is keyrotor's work, measured on
 * its side.
 */
public final class EchoServer {
  private static final Map<Integer, ByteString> REPLIES = new ConcurrentHashMap<>();
  private static final Duration VALIDITY = Duration.ofDays(7);

  private EchoServer() {}

  /**
   * Starts the echo server on {@code host:port} with the given executor.
   *
   * @param executor the server's executor: "default" (grpc-java's cached pool), "direct" (handlers
   *     on the transport threads) or "fixed:N" (a pool of N threads, as the node uses); the others
   *     exist to measure the threading model, not as baselines
   * @param tlsDirectory where to write the CA and certificates and serve mutual TLS with them, or
   *     null for plaintext
   */
  public static Server start(String host, int port, String executor, Path tlsDirectory)
      throws IOException {
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
    if (tlsDirectory != null) {
      TlsFiles server = writeCertificates(tlsDirectory, host);
      builder.sslContext(
          GrpcSslContexts.configure(
                  SslContextBuilder.forServer(
                      server.certificate().toFile(), server.privateKey().toFile()),
                  SslProvider.JDK)
              .protocols("TLSv1.3")
              .clientAuth(ClientAuth.REQUIRE)
              .trustManager(server.trustedCertificates().toFile())
              .build());
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

  /**
   * A new development CA in {@code directory} ({@code ca.pem}), the server's certificate for {@code
   * host} ({@code echo.pem}, {@code echo-key.pem}) and a caller's ({@code admin.pem}, {@code
   * admin-key.pem}); returns the server's files.
   */
  static TlsFiles writeCertificates(Path directory, String host) throws IOException {
    Files.createDirectories(directory);
    DevelopmentCa ca =
        DevelopmentCa.create(
            "keyrotor bench echo CA",
            DevelopmentCa.DEFAULT_TRUST_DOMAIN,
            VALIDITY,
            Clock.systemUTC());
    TlsFiles server = TlsFiles.inDirectory(directory, "echo");
    TlsFiles caller = TlsFiles.inDirectory(directory, Targets.CALLER);
    ca.issueNode("echo", List.of(host), VALIDITY).write(server.certificate(), server.privateKey());
    ca.issueClient(Targets.CALLER, VALIDITY).write(caller.certificate(), caller.privateKey());
    // The CA last: a client that finds ca.pem finds the rest too.
    ca.write(directory.resolve("ca.pem.tmp"), directory.resolve("ca-key.pem"));
    Files.move(
        directory.resolve("ca.pem.tmp"),
        server.trustedCertificates(),
        StandardCopyOption.REPLACE_EXISTING);
    return server;
  }

  /**
   * Runs an echo server until killed: {@code EchoServer host port executor TLS-DIRECTORY}, or
   * {@code plaintext} instead of the directory for the old plaintext baseline.
   */
  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: EchoServer HOST PORT EXECUTOR TLS-DIRECTORY|plaintext");
      System.exit(2);
    }
    Path tls = args[3].equals("plaintext") ? null : Path.of(args[3]);
    Server server = start(args[0], Integer.parseInt(args[1]), args[2], tls);
    System.out.println(
        "echo server listening on "
            + args[0]
            + ":"
            + server.getPort()
            + ", executor "
            + args[2]
            + (tls == null ? ", plaintext" : ", mutual TLS 1.3 (certificates in " + tls + ")"));
    server.awaitTermination();
  }
}
