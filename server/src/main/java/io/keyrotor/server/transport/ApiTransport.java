package io.keyrotor.server.transport;

import com.google.protobuf.Timestamp;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ServerInterceptor;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.keyrotor.api.v1.TransportMode;
import io.keyrotor.api.v1.TransportSecurity;
import io.keyrotor.server.config.FlowSettings;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.config.TlsSettings;
import io.keyrotor.tls.ReloadingCredentials;
import java.io.IOException;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The transport security of one node's gRPC API, from its {@link TlsSettings}.
 *
 * <p>With mutual TLS the API port speaks TLS 1.3 only, presents the node's certificate (reloaded
 * when its files change) and asks every caller for a client certificate. The TLS layer checks that
 * the caller holds the key of the certificate it presents; whether that certificate is valid now
 * and issued by the node's CA is checked by {@link Authentication} on every call, so that a caller
 * without a certificate, with one of another CA or with an expired one gets {@code UNAUTHENTICATED}
 * and a message naming the problem, instead of a failed handshake that gRPC reports as {@code
 * UNAVAILABLE} (and a retrying client would retry). No call reaches a service without that check,
 * except the health service (see {@link #authentication}).
 *
 * <p>With {@code tls.insecure=true} (loopback addresses only, enforced by {@link NodeConfig}) the
 * port speaks plaintext and every caller is {@link
 * io.keyrotor.server.access.Principal#UNAUTHENTICATED_LOOPBACK}.
 */
public final class ApiTransport {
  private final TlsSettings settings;
  private final Optional<ReloadingCredentials> credentials;
  private final Clock clock;
  private final Authentication authentication;

  private ApiTransport(
      TlsSettings settings, Optional<ReloadingCredentials> credentials, Clock clock) {
    this.settings = settings;
    this.credentials = credentials;
    this.clock = clock;
    this.authentication = new Authentication(credentials, clock);
  }

  /**
   * Reads the node's TLS files (a missing or inconsistent file fails here, naming it) or, in
   * insecure mode, nothing. {@code clock} is the real clock: certificate validity is not subject to
   * a chaos clock's skew.
   */
  public static ApiTransport open(TlsSettings settings, Clock clock) throws IOException {
    Optional<ReloadingCredentials> credentials = Optional.empty();
    if (settings.files().isPresent()) {
      credentials =
          Optional.of(
              ReloadingCredentials.open(settings.files().get(), settings.reloadInterval(), clock));
    }
    return new ApiTransport(settings, credentials, clock);
  }

  /** True when the API serves mutual TLS; false in the explicit insecure mode. */
  public boolean mutualTls() {
    return credentials.isPresent();
  }

  /** The node's reloading credentials (mutual TLS only). */
  public Optional<ReloadingCredentials> credentials() {
    return credentials;
  }

  /**
   * Secures {@code builder}'s port: TLS 1.3 with the node's certificate, or nothing if insecure.
   */
  public NettyServerBuilder secure(NettyServerBuilder builder) throws SSLException {
    if (credentials.isEmpty()) {
      return builder;
    }
    SslContextBuilder tls =
        GrpcSslContexts.configure(
                SslContextBuilder.forServer(credentials.get().keyManager()), SslProvider.JDK)
            .protocols("TLSv1.3")
            .clientAuth(ClientAuth.OPTIONAL)
            .trustManager(new CheckedPerCall());
    SslContext context = tls.build();
    return builder.sslContext(context);
  }

  /**
   * Sets {@code builder}'s per-connection limits from {@code flow}: concurrent calls (HTTP/2
   * streams; further calls wait in the client until one ends), the largest request message and
   * header block (a larger one is refused with RESOURCE_EXHAUSTED before a handler sees it), the
   * keepalive policy (the node pings quiet connections, and sends GOAWAY to a client that pings
   * more often than {@code grpc.keepalive-permit-time}), and how long idle and old connections
   * live. gRPC's own defaults leave concurrent calls and connection lifetimes unbounded.
   */
  public static NettyServerBuilder limit(NettyServerBuilder builder, FlowSettings flow) {
    builder
        .maxConcurrentCallsPerConnection(flow.maxConcurrentCallsPerConnection())
        .maxInboundMessageSize(flow.maxInboundMessageBytes())
        .maxInboundMetadataSize(flow.maxInboundMetadataBytes())
        .keepAliveTime(flow.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(flow.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveTime(flow.permitKeepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveWithoutCalls(flow.permitKeepAliveWithoutCalls());
    if (!flow.maxConnectionIdle().isZero()) {
      builder.maxConnectionIdle(flow.maxConnectionIdle().toMillis(), TimeUnit.MILLISECONDS);
    }
    if (!flow.maxConnectionAge().isZero()) {
      builder
          .maxConnectionAge(flow.maxConnectionAge().toMillis(), TimeUnit.MILLISECONDS)
          .maxConnectionAgeGrace(flow.maxConnectionAgeGrace().toMillis(), TimeUnit.MILLISECONDS);
    }
    return builder;
  }

  /**
   * The interceptor every service but health runs behind: it sets {@link
   * io.keyrotor.server.access.Caller#PRINCIPAL} or refuses the call with {@code UNAUTHENTICATED}.
   * Health stays open to any caller (TLS, no certificate needed) so that probes need no
   * credentials; it tells only whether the node serves.
   */
  public ServerInterceptor authentication() {
    return authentication;
  }

  /**
   * The principal of the client certificate of {@code session}, a TLS session of the node's HTTPS
   * listener: the same checks and the same principal as for a gRPC call ({@link Authentication}).
   *
   * @throws io.grpc.StatusRuntimeException UNAUTHENTICATED, saying why, if it is not accepted
   */
  public io.keyrotor.server.access.Principal authenticate(javax.net.ssl.SSLSession session) {
    return authentication.authenticate(session);
  }

  /**
   * An SSL context for the node's other TLS listeners (its HTTPS endpoint): TLS with the node's
   * reloading certificate, asking for a client certificate that {@link #authenticate} checks, as
   * the gRPC port does. Mutual TLS only.
   */
  public javax.net.ssl.SSLContext serverSslContext() throws java.security.GeneralSecurityException {
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
    context.init(
        new javax.net.ssl.KeyManager[] {credentials.orElseThrow().keyManager()},
        new javax.net.ssl.TrustManager[] {new CheckedPerCall()},
        null);
    return context;
  }

  /**
   * A channel from this node to another node's API ({@code host:port}): mutual TLS with the node's
   * own certificate as client identity (it has client use), the peer checked against the CA and the
   * address; plaintext in insecure mode.
   */
  public ManagedChannel channelTo(String address) {
    ChannelCredentials channelCredentials =
        credentials
            .<ChannelCredentials>map(
                c ->
                    TlsChannelCredentials.newBuilder()
                        .keyManager(c.keyManager())
                        .trustManager(c.trustManager())
                        .build())
            .orElseGet(InsecureChannelCredentials::create);
    return Grpc.newChannelBuilder(address, channelCredentials).build();
  }

  /** Seconds until the node's certificate expires (negative once expired); NaN if insecure. */
  public double secondsUntilExpiry() {
    return credentials
        .map(
            c ->
                (double) Duration.between(clock.instant(), c.current().notAfter()).toMillis()
                    / 1000.0)
        .orElse(Double.NaN);
  }

  /** The transport part of the node status. */
  public TransportSecurity status() {
    if (credentials.isEmpty()) {
      return TransportSecurity.newBuilder()
          .setMode(TransportMode.TRANSPORT_MODE_INSECURE_PLAINTEXT)
          .build();
    }
    ReloadingCredentials.Snapshot current = credentials.get().current();
    X509Certificate certificate = current.chain().get(0);
    Instant notAfter = current.notAfter();
    TransportSecurity.Builder out =
        TransportSecurity.newBuilder()
            .setMode(TransportMode.TRANSPORT_MODE_MUTUAL_TLS)
            .setCertificateSubject(certificate.getSubjectX500Principal().getName())
            .setCertificateSerial(certificate.getSerialNumber().toString(16))
            .setCertificateNotAfter(
                Timestamp.newBuilder()
                    .setSeconds(notAfter.getEpochSecond())
                    .setNanos(notAfter.getNano()))
            .setLastReloadFailure(credentials.get().lastReloadFailure());
    expiryWarning(notAfter).ifPresent(out::setExpiryWarning);
    return out.build();
  }

  /** A warning if the certificate expires within {@code tls.expiry-warning}. */
  Optional<String> expiryWarning(Instant notAfter) {
    Instant now = clock.instant();
    String file = settings.files().map(f -> f.certificate().toString()).orElse("");
    if (!notAfter.isAfter(now)) {
      return Optional.of(
          "the node certificate expired at " + notAfter + "; replace " + file + " and its key");
    }
    Duration left = Duration.between(now, notAfter);
    if (left.compareTo(settings.expiryWarning()) <= 0) {
      return Optional.of(
          "the node certificate expires at "
              + notAfter
              + " (in "
              + left.toHours()
              + " h, within tls.expiry-warning "
              + settings.expiryWarning()
              + "); replace "
              + file
              + " and its key: the node picks them up without a restart");
    }
    return Optional.empty();
  }

  /**
   * The TLS layer's check of client certificates: none. A client certificate is accepted into the
   * session once the caller proved it holds its key (TLS does that in any case); {@link
   * Authentication} checks its validity and issuer before any call is served. No CA names are sent
   * with the certificate request, so a client presents its certificate whatever its issuer, and a
   * wrong one is refused with a message that says so. This is a server-side trust manager only.
   */
  private static final class CheckedPerCall extends X509ExtendedTrustManager {
    private static void requireChain(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("empty client certificate chain");
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      requireChain(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      requireChain(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      requireChain(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("the API port's trust manager checks clients only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("the API port's trust manager checks clients only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("the API port's trust manager checks clients only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
