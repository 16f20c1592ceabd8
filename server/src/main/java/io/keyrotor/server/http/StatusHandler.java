package io.keyrotor.server.http;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.storage.StateView;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Serves the status page at {@code /} (GET and HEAD only; any other path is 404): the cluster
 * status GetClusterStatus computes ({@link io.keyrotor.server.api.AdminServiceImpl#clusterStatus})
 * and this node's view of the replicated state, rendered by {@link StatusPage}.
 */
public final class StatusHandler implements HttpHandler {
  /** How many of the newest key events the page lists. */
  static final int RECENT_EVENTS = 20;

  /** How long the page waits for the peers' status (each peer has its own shorter deadline). */
  private static final long CLUSTER_STATUS_TIMEOUT_SECONDS = 10;

  private final String nodeId;
  private final Supplier<CompletableFuture<ClusterStatus>> clusterStatus;
  private final Supplier<StateView> state;
  private final MetricRegistry metrics;
  private final Clock clock;

  public StatusHandler(
      String nodeId,
      Supplier<CompletableFuture<ClusterStatus>> clusterStatus,
      Supplier<StateView> state,
      MetricRegistry metrics,
      Clock clock) {
    this.nodeId = nodeId;
    this.clusterStatus = clusterStatus;
    this.state = state;
    this.metrics = metrics;
    this.clock = clock;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    if (!"/".equals(exchange.getRequestURI().getPath())) {
      HttpEndpoint.refuse(exchange, 404, "not found: this node serves / and /metrics");
      return;
    }
    String method = exchange.getRequestMethod();
    if (!"GET".equals(method) && !"HEAD".equals(method)) {
      exchange.getResponseHeaders().set("Allow", "GET, HEAD");
      HttpEndpoint.refuse(exchange, 405, "the status page is read-only: GET or HEAD");
      return;
    }
    ClusterStatus cluster;
    try {
      cluster = clusterStatus.get().get(CLUSTER_STATUS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      HttpEndpoint.refuse(exchange, 503, "the cluster status is not available now: " + e);
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      HttpEndpoint.refuse(exchange, 503, "interrupted");
      return;
    }
    String page = StatusPage.render(cluster, localView(), clock.instant());
    exchange
        .getResponseHeaders()
        .set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    HttpEndpoint.send(exchange, 200, "text/html; charset=utf-8", page);
  }

  private StatusPage.LocalView localView() {
    StateView view = state.get();
    long applied = Math.max(0, view.appliedPosition().index());
    // The events of the last entries; a bulk rotation's entry may hold many, so read a bounded
    // number from a little further back and keep the newest.
    List<KeyEventRecord> events =
        view.eventsAfter(StateView.cursorOf(Math.max(0, applied - RECENT_EVENTS), 0), 4_096);
    List<KeyEventRecord> recent =
        new ArrayList<>(events.subList(Math.max(0, events.size() - RECENT_EVENTS), events.size()));
    return new StatusPage.LocalView(
        nodeId,
        view.keysAwaitingValidation().size(),
        List.copyOf(view.bulkRotations().values()),
        recent,
        gauge("rotation.in-flight"),
        gauge("rotation.late"),
        counter("rotation.failures"));
  }

  private long gauge(String name) {
    Gauge<?> gauge = metrics.getGauges().get(name);
    return gauge != null && gauge.getValue() instanceof Number n ? n.longValue() : 0;
  }

  private long counter(String name) {
    Counter counter = metrics.getCounters().get(name);
    return counter == null ? 0 : counter.getCount();
  }
}
