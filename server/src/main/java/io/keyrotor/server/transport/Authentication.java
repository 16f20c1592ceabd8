package io.keyrotor.server.transport;

import com.google.rpc.Code;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Principal;
import io.keyrotor.server.api.ApiErrors;
import io.keyrotor.tls.Identities;
import io.keyrotor.tls.ReloadingCredentials;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Authenticates every call by the client certificate of its TLS session and puts the caller's
 * {@link Principal} (first URI subject alternative name, else common name: {@link
 * Identities#principalOf}) into {@link Caller#PRINCIPAL}. A call is refused with {@code
 * UNAUTHENTICATED}, a message naming the problem and an ErrorInfo whose reason is {@link
 * ErrorReason#UNAUTHENTICATED} ({@link ApiErrors}) when its session has no client certificate, when
 * the certificate is not valid now (expired or not yet valid), when it is not issued by a CA the
 * node trusts now (for client use), or when it names no principal.
 *
 * <p>An accepted certificate is remembered in the TLS session, so a connection's calls pay for the
 * check once; it is checked again when the node's TLS files change (a CA rotation or removal
 * applies to existing connections too) and once the certificate's validity ends. A refusal is never
 * remembered.
 *
 * <p>In the explicit insecure mode every caller is {@link Principal#UNAUTHENTICATED_LOOPBACK}.
 */
final class Authentication implements ServerInterceptor {
  private static final String SESSION_VALUE = "io.keyrotor.server.authentication";

  /** What the check of one session's client certificate found, under one set of trusted CAs. */
  private record Verdict(
      long trustGeneration, Instant notAfter, Principal principal, StatusRuntimeException refusal) {
    boolean stillApplies(long generation, Instant now) {
      return trustGeneration == generation && now.isBefore(notAfter);
    }
  }

  private final Optional<ReloadingCredentials> credentials;
  private final Clock clock;

  Authentication(Optional<ReloadingCredentials> credentials, Clock clock) {
    this.credentials = credentials;
    this.clock = clock;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Principal principal;
    if (credentials.isEmpty()) {
      principal = Principal.UNAUTHENTICATED_LOOPBACK;
    } else {
      Verdict verdict =
          verdict(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION), credentials.get());
      if (verdict.refusal() != null) {
        call.close(verdict.refusal().getStatus(), verdict.refusal().getTrailers());
        return new ServerCall.Listener<>() {};
      }
      principal = verdict.principal();
    }
    Context context = Context.current().withValue(Caller.PRINCIPAL, principal);
    return Contexts.interceptCall(context, call, headers, next);
  }

  /**
   * The principal of the client certificate of {@code session} (a TLS session of another listener
   * of this node, such as its HTTPS endpoint), checked exactly as for a gRPC call; the refusal, an
   * UNAUTHENTICATED status whose description says why, if it is not accepted.
   */
  Principal authenticate(SSLSession session) {
    if (credentials.isEmpty()) {
      return Principal.UNAUTHENTICATED_LOOPBACK;
    }
    Verdict verdict = verdict(session, credentials.get());
    if (verdict.refusal() != null) {
      throw verdict.refusal();
    }
    return verdict.principal();
  }

  private Verdict verdict(SSLSession session, ReloadingCredentials credentials) {
    ReloadingCredentials.Snapshot trust = credentials.current();
    Instant now = clock.instant();
    if (session == null) {
      return refused(trust, "the call did not come over TLS; this node requires mutual TLS");
    }
    if (session.getValue(SESSION_VALUE) instanceof Verdict cached
        && cached.stillApplies(trust.generation(), now)) {
      return cached;
    }
    Verdict verdict = check(session, trust, now);
    if (verdict.refusal() == null) {
      session.putValue(SESSION_VALUE, verdict);
    }
    return verdict;
  }

  private static Verdict check(
      SSLSession session, ReloadingCredentials.Snapshot trust, Instant now) {
    Certificate[] presented;
    try {
      presented = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return refused(
          trust,
          "no client certificate: this node requires mutual TLS; present a certificate issued by"
              + " the cluster's CA (for a local cluster: DIR/tls/admin.pem and admin-key.pem)");
    }
    X509Certificate[] chain;
    try {
      chain = Arrays.copyOf(presented, presented.length, X509Certificate[].class);
    } catch (ArrayStoreException e) {
      return refused(trust, "the client certificate is not an X.509 certificate");
    }
    X509Certificate leaf = chain[0];
    String subject = leaf.getSubjectX500Principal().getName();
    Instant notBefore = leaf.getNotBefore().toInstant();
    Instant notAfter = leaf.getNotAfter().toInstant();
    if (!now.isBefore(notAfter)) {
      return refused(
          trust, "the client certificate " + subject + " expired at " + notAfter + "; renew it");
    }
    if (now.isBefore(notBefore)) {
      return refused(
          trust, "the client certificate " + subject + " is not valid before " + notBefore);
    }
    try {
      trust.trustManager().checkClientTrusted(chain, leaf.getPublicKey().getAlgorithm());
    } catch (CertificateException e) {
      return refused(
          trust,
          "the client certificate "
              + subject
              + " (issuer "
              + leaf.getIssuerX500Principal().getName()
              + ") is not a client certificate of a CA this node trusts: "
              + e.getMessage());
    }
    Optional<String> name = Identities.principalOf(leaf);
    if (name.isEmpty()) {
      return refused(
          trust,
          "the client certificate "
              + subject
              + " names no principal (it has neither a URI subject alternative name nor a"
              + " common name)");
    }
    return new Verdict(trust.generation(), notAfter, new Principal(name.get()), null);
  }

  private static Verdict refused(ReloadingCredentials.Snapshot trust, String message) {
    return new Verdict(
        trust.generation(),
        Instant.MAX,
        null,
        ApiErrors.error(Code.UNAUTHENTICATED, ErrorReason.UNAUTHENTICATED, message));
  }
}
