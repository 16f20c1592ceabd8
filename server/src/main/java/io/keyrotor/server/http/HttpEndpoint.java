package io.keyrotor.server.http;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.keyrotor.server.access.Authorizer;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Decision;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Principal;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.transport.ApiTransport;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The node's HTTPS listener for operators ({@code http.address}): Prometheus metrics at {@code
 * /metrics} (the Prometheus Java client's handler over the node's registry) and the status page at
 * {@code /}, on the JDK's {@link HttpsServer}.
 *
 * <p>TLS 1.3 with the node's certificate (reloaded with the gRPC port's), asking every client for a
 * certificate. Every request passes {@link Access} first: the client certificate is checked and its
 * principal taken exactly as for a gRPC call ({@link ApiTransport#authenticate}), and the principal
 * must be granted PERMISSION_ADMINISTER on the cluster by the replicated policy ({@link
 * Authorizer}, operation {@link Operation#HTTP_STATUS}: the page shows every node's status, HSM and
 * limits; a denial is recorded in the audit chain as an RPC's is). No certificate, a certificate
 * the node does not accept: 401; a principal without the permission: 403; held back by a quota:
 * 429. The answer's body says why in one line.
 *
 * <p>With a {@link RestGateway}, the same listener serves the key API as HTTP/JSON under {@code
 * /v1} and its OpenAPI document at {@code /openapi.json}: those requests are authenticated the same
 * way, and then authorised by the RPC they call (its own operation and target, as over gRPC), not
 * by PERMISSION_ADMINISTER; the document is open to any caller the node authenticates.
 *
 * <p>Requests are served by four threads with a bounded queue; a connection that arrives while the
 * queue is full is closed.
 */
public final class HttpEndpoint implements AutoCloseable {
  private static final int THREADS = 4;
  private static final int QUEUE = 64;

  private final HttpsServer server;
  private final ThreadPoolExecutor executor;
  private final RestGateway gateway;

  private HttpEndpoint(HttpsServer server, ThreadPoolExecutor executor, RestGateway gateway) {
    this.server = server;
    this.executor = executor;
    this.gateway = gateway;
  }

  /**
   * Listens on {@code address} ({@code HOST:PORT}).
   *
   * @param page what {@code /} shows
   * @param gateway the HTTP/JSON key API and its OpenAPI document, or null for none; the endpoint
   *     closes it
   * @throws IOException if the address cannot be bound or TLS cannot be set up
   */
  public static HttpEndpoint start(
      String address,
      ApiTransport transport,
      Authorizer authorizer,
      PrometheusRegistry registry,
      HttpHandler page,
      RestGateway gateway)
      throws IOException {
    SSLContext tls;
    try {
      tls = transport.serverSslContext();
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot set up TLS: " + e.getMessage(), e);
    }
    int colon = address.lastIndexOf(':');
    InetSocketAddress bind =
        new InetSocketAddress(
            address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
    HttpsServer server = HttpsServer.create(bind, 0);
    server.setHttpsConfigurator(
        new HttpsConfigurator(tls) {
          @Override
          public void configure(HttpsParameters params) {
            SSLParameters parameters = getSSLContext().getDefaultSSLParameters();
            parameters.setProtocols(new String[] {"TLSv1.3"});
            parameters.setWantClientAuth(true);
            params.setSSLParameters(parameters);
          }
        });
    Access access = new Access(transport, authorizer, gateway != null);
    server.createContext("/metrics", new MetricsHandler(registry)).getFilters().add(access);
    HttpHandler root =
        gateway == null
            ? page
            : exchange -> {
              if (RestGateway.serves(exchange.getRequestURI().getRawPath())) {
                gateway.handle(
                    exchange, new Principal((String) exchange.getAttribute(PRINCIPAL_ATTRIBUTE)));
              } else {
                page.handle(exchange);
              }
            };
    server.createContext("/", root).getFilters().add(access);
    AtomicInteger threads = new AtomicInteger();
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            runnable -> {
              Thread thread = new Thread(runnable, "keyrotor-http-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(executor);
    server.start();
    return new HttpEndpoint(server, executor, gateway);
  }

  /** The port it listens on (the chosen one when configured with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    if (gateway != null) {
      gateway.close();
    }
  }

  /** Where {@link Access} leaves the authenticated principal's name for the handler. */
  static final String PRINCIPAL_ATTRIBUTE = "keyrotor.principal";

  /**
   * Authenticates every request and authorises it before its handler runs: PERMISSION_ADMINISTER
   * for metrics and the status page; the gateway's requests are authorised by the RPC they call.
   */
  static final class Access extends Filter {
    private final ApiTransport transport;
    private final Authorizer authorizer;
    private final boolean gateway;

    Access(ApiTransport transport, Authorizer authorizer, boolean gateway) {
      this.transport = transport;
      this.authorizer = authorizer;
      this.gateway = gateway;
    }

    @Override
    public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
      Principal principal;
      try {
        principal = transport.authenticate(((HttpsExchange) exchange).getSSLSession());
      } catch (StatusRuntimeException refused) {
        refuse(exchange, 401, refused.getStatus().getDescription());
        return;
      }
      if (gateway && RestGateway.serves(exchange.getRequestURI().getRawPath())) {
        exchange.setAttribute(PRINCIPAL_ATTRIBUTE, principal.name());
        chain.doFilter(exchange);
        return;
      }
      Decision decision;
      try {
        decision =
            Context.current()
                .withValue(Caller.PRINCIPAL, principal)
                .call(() -> authorizer.authorize(Operation.HTTP_STATUS, Target.cluster()));
      } catch (Exception e) {
        refuse(exchange, 500, "the authorisation check failed: " + e);
        return;
      }
      if (!decision.allowed()) {
        int code = decision.throttled() ? 429 : decision.authenticated() ? 403 : 401;
        if (decision.throttled() && decision.retryAfter() != null) {
          exchange
              .getResponseHeaders()
              .set(
                  "Retry-After",
                  Long.toString(Math.max(1, (decision.retryAfter().toMillis() + 999) / 1000)));
        }
        refuse(exchange, code, decision.denialReason());
        return;
      }
      exchange.setAttribute(PRINCIPAL_ATTRIBUTE, principal.name());
      chain.doFilter(exchange);
    }

    @Override
    public String description() {
      return "keyrotor client certificate and PERMISSION_ADMINISTER";
    }
  }

  static void refuse(HttpExchange exchange, int code, String message) throws IOException {
    send(exchange, code, "text/plain; charset=utf-8", (message == null ? "" : message) + "\n");
  }

  static void send(HttpExchange exchange, int code, String contentType, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    boolean head = "HEAD".equals(exchange.getRequestMethod());
    exchange.sendResponseHeaders(code, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
    exchange.close();
  }
}
