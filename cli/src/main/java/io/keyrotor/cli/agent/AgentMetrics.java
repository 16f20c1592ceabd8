package io.keyrotor.cli.agent;

import com.sun.net.httpserver.HttpServer;
import io.keyrotor.client.envelope.CachingDataPlane;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * The agent's counters in the Prometheus text format at {@code http://127.0.0.1:PORT/metrics}:
 * cache hits and misses, stale decrypts served during an outage, entries dropped by key events,
 * entries held, whether the event stream is up and how often it broke and resumed. Bound to
 * loopback only: the numbers say how the host's applications use their keys, which is nobody else's
 * business. No key material, key bytes or contexts appear; only counts.
 */
public final class AgentMetrics implements AutoCloseable {

  private final HttpServer server;

  private AgentMetrics(HttpServer server) {
    this.server = server;
  }

  /** Serves on 127.0.0.1:{@code port} (0: any free port). */
  public static AgentMetrics start(int port, CachingDataPlane cache, BooleanSupplier watching)
      throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    server.createContext(
        "/metrics",
        exchange -> {
          byte[] body = render(cache, watching.getAsBoolean()).getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return new AgentMetrics(server);
  }

  /** The port it listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The exposition text. */
  public static String render(CachingDataPlane cache, boolean watching) {
    StringBuilder out = new StringBuilder();
    counter(
        out,
        "keyrotor_agent_data_key_hits_total",
        "GenerateDataKey calls answered from the cache",
        cache.dataKeyHits());
    counter(
        out,
        "keyrotor_agent_data_key_misses_total",
        "GenerateDataKey calls sent to the cluster",
        cache.dataKeyMisses());
    counter(
        out,
        "keyrotor_agent_decrypt_hits_total",
        "Decrypt calls answered from the cache",
        cache.decryptHits());
    counter(
        out,
        "keyrotor_agent_decrypt_misses_total",
        "Decrypt calls sent to the cluster",
        cache.decryptMisses());
    counter(
        out,
        "keyrotor_agent_stale_decrypts_total",
        "Decrypt calls answered from an entry past max-age while the cluster was unreachable",
        cache.staleDecrypts());
    counter(
        out,
        "keyrotor_agent_invalidated_entries_total",
        "Cache entries dropped because of key events",
        cache.invalidatedEntries());
    counter(
        out,
        "keyrotor_agent_event_stream_interruptions_total",
        "Times the key event stream broke (its node went away) and resumed from its cursor",
        cache.streamInterruptions());
    gauge(
        out,
        "keyrotor_agent_cached_entries",
        "Data keys held in the two caches",
        cache.cachedEntries());
    gauge(
        out,
        "keyrotor_agent_event_stream_up",
        "1 while the key event subscription runs",
        watching ? 1 : 0);
    return out.toString();
  }

  private static void counter(StringBuilder out, String name, String help, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" counter\n");
    out.append(name).append(' ').append(value).append('\n');
  }

  private static void gauge(StringBuilder out, String name, String help, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" gauge\n");
    out.append(name).append(' ').append(value).append('\n');
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
