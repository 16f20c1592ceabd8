package io.keyrotor.server.api;

import com.codahale.metrics.MetricRegistry;
import com.google.common.util.concurrent.ThreadFactoryBuilder;
import com.google.rpc.Code;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Principal;
import io.keyrotor.server.config.FlowSettings;
import io.keyrotor.storage.StateView;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * WatchKeyEvents: each watcher streams events from its cursor (or from now) in log order, then
 * waits for new ones. Events are read from this node's applied state, so a watcher on a follower
 * sees them a moment later than on the leader, never in another order; after a reconnect it resumes
 * from the cursor of the last event it received.
 *
 * <p>Flow control. A watcher reads at most {@value #BATCH} events at a time from the store and
 * hands one to gRPC only while the stream is ready ({@link ServerCallStreamObserver#isReady}): once
 * gRPC holds {@value #STREAM_BUFFER_BYTES} bytes for the stream that its client's HTTP/2 window
 * does not take (its client is not reading), the watcher stops reading the store and waits for
 * {@code onReady}, so the node never buffers a history for a client that does not take it. A
 * watcher whose client stays not ready for {@value #STALL_GRACE_MILLIS} ms while the newest event
 * is more than {@code limits.watcher-max-lag} log entries ahead of it is ended with UNAVAILABLE
 * {@link ErrorReason#WATCHER_TOO_SLOW}, whose metadata {@code cursor} (and message) says where to
 * resume; the Java SDK resumes from its own last cursor by itself.
 *
 * <p>Bounds: {@code limits.watchers-per-node} watchers on one node ({@link
 * ErrorReason#TOO_MANY_WATCHERS}: use another node), {@code limits.watchers-per-principal} of one
 * principal on one node ({@link ErrorReason#TOO_MANY_WATCHERS_FOR_PRINCIPAL}: close one first),
 * both RESOURCE_EXHAUSTED.
 */
public final class EventWatchers implements AutoCloseable {
  /** Events one watcher reads from the store at once: the most it holds for its client. */
  static final int BATCH = 100;

  /** How long a watcher's client may stay not ready before its lag is checked. */
  static final long STALL_GRACE_MILLIS = 2_000;

  /**
   * Encoded bytes gRPC may hold for one watcher before its stream reports not ready (gRPC's default
   * is 32 KiB): with {@link #BATCH}, what a node buffers for a watcher whose client does not read.
   */
  static final int STREAM_BUFFER_BYTES = 16 << 10;

  private static final long WAIT_MILLIS = 1_000;

  private final ServerContext context;
  private final FlowSettings flow;
  private final Map<String, Integer> watchersByPrincipal = new HashMap<>();
  private int watchers;
  private final AtomicLong bufferedEvents = new AtomicLong();
  private final AtomicLong endedTooSlow = new AtomicLong();
  private final ExecutorService threads =
      Executors.newCachedThreadPool(
          new ThreadFactoryBuilder().setNameFormat("keyrotor-watch").setDaemon(true).build());

  /** The watchers of the node of {@code context}, bounded by its {@link FlowSettings}. */
  public EventWatchers(ServerContext context) {
    this.context = context;
    this.flow = context.config().flow();
  }

  /**
   * Gauges {@code watch.watchers} (open now), {@code watch.buffered-events} (events read from the
   * store that watchers hold and have not handed to gRPC, plus any handed to gRPC while its stream
   * was not ready: bounded by {@value #BATCH} per watcher), and {@code watch.ended-too-slow}
   * (watchers ended with WATCHER_TOO_SLOW since start).
   */
  public void registerMetrics(MetricRegistry registry) {
    registry.gauge("watch.watchers", () -> this::watchers);
    registry.gauge("watch.buffered-events", () -> bufferedEvents::get);
    registry.gauge("watch.ended-too-slow", () -> endedTooSlow::get);
  }

  /** Watchers open on this node now. */
  public synchronized int watchers() {
    return watchers;
  }

  /** Events read from the store and held by watchers, not yet handed to gRPC (see metrics). */
  public long bufferedEvents() {
    return bufferedEvents.get();
  }

  /** Watchers ended with WATCHER_TOO_SLOW since the node started. */
  public long endedTooSlow() {
    return endedTooSlow.get();
  }

  void watch(WatchKeyEventsRequest request, StreamObserver<KeyEvent> response) {
    Set<String> names = Set.copyOf(request.getKeyNamesList());
    for (String name : names) {
      Requests.keyName(name, "key_names");
    }
    long start =
        request.getCursor().isEmpty()
            ? context.raft().state().lastEventCursor()
            : RotationViews.parseCursor(request.getCursor());
    String principal = Caller.current().map(Principal::name).orElse("");
    acquire(principal);
    ServerCallStreamObserver<KeyEvent> call = (ServerCallStreamObserver<KeyEvent>) response;
    Watch watch = new Watch(call, names, principal);
    call.setOnReadyThreshold(STREAM_BUFFER_BYTES);
    // Both handlers must be set before this method returns; they only wake the watcher's thread.
    call.setOnReadyHandler(watch::wake);
    call.setOnCancelHandler(watch::wake);
    try {
      threads.execute(() -> watch.run(start));
    } catch (RuntimeException e) {
      release(principal);
      throw ApiErrors.shuttingDown();
    }
  }

  private synchronized void acquire(String principal) {
    if (watchers >= flow.watchersPerNode()) {
      throw ApiErrors.error(
          Code.RESOURCE_EXHAUSTED,
          ErrorReason.TOO_MANY_WATCHERS,
          "this node serves at most "
              + flow.watchersPerNode()
              + " event watchers (limits.watchers-per-node); use another node",
          Map.of("limit", Integer.toString(flow.watchersPerNode())));
    }
    int mine = watchersByPrincipal.getOrDefault(principal, 0);
    if (mine >= flow.watchersPerPrincipal()) {
      throw ApiErrors.error(
          Code.RESOURCE_EXHAUSTED,
          ErrorReason.TOO_MANY_WATCHERS_FOR_PRINCIPAL,
          "principal \""
              + principal
              + "\" already has "
              + mine
              + " event watchers open on this node, the most limits.watchers-per-principal ("
              + flow.watchersPerPrincipal()
              + ") allows; close one (or watch several keys with one stream)",
          Map.of("limit", Integer.toString(flow.watchersPerPrincipal())));
    }
    watchersByPrincipal.put(principal, mine + 1);
    watchers++;
  }

  private synchronized void release(String principal) {
    watchers--;
    watchersByPrincipal.computeIfPresent(principal, (p, n) -> n <= 1 ? null : n - 1);
  }

  /** One watcher's stream, run on its own thread. */
  private final class Watch {
    private final ServerCallStreamObserver<KeyEvent> call;
    private final Set<String> names;
    private final String principal;
    private final Object signal = new Object();

    Watch(ServerCallStreamObserver<KeyEvent> call, Set<String> names, String principal) {
      this.call = call;
      this.names = names;
      this.principal = principal;
    }

    /** gRPC's onReady and onCancel: the stream may take more, or is gone. */
    void wake() {
      synchronized (signal) {
        signal.notifyAll();
      }
    }

    void run(long start) {
      long cursor = start;
      try {
        while (!call.isCancelled()) {
          if (!call.isReady()) {
            if (!awaitReady() && tooFarBehind(cursor)) {
              endTooSlow(cursor);
              return;
            }
            continue;
          }
          StateView store = context.raft().state();
          List<KeyEventRecord> events = store.eventsAfter(cursor, BATCH);
          int held = events.size();
          bufferedEvents.addAndGet(held);
          try {
            for (KeyEventRecord event : events) {
              if (!call.isReady() || call.isCancelled()) {
                break; // the rest is read again once the client takes more
              }
              cursor = StateView.cursorOf(event.getLogIndex(), event.getSequence());
              held--;
              bufferedEvents.decrementAndGet();
              if (names.isEmpty() || names.contains(event.getKeyName())) {
                call.onNext(RotationViews.event(event));
              }
            }
          } finally {
            bufferedEvents.addAndGet(-held);
          }
          if (events.isEmpty()) {
            store.awaitEventsAfter(cursor, WAIT_MILLIS);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        call.onError(ApiErrors.shuttingDown());
      } catch (RuntimeException e) {
        if (!call.isCancelled()) {
          call.onError(
              ApiErrors.error(
                  Code.UNAVAILABLE,
                  ErrorReason.WATCH_INTERRUPTED,
                  "the event stream stopped (" + e.getMessage() + "); resume from the last cursor",
                  Map.of("cursor", cursorText(cursor))));
        }
      } finally {
        release(principal);
      }
    }

    /**
     * Waits up to {@link #STALL_GRACE_MILLIS} for the stream to become ready (or be cancelled);
     * returns whether it is no longer stalled.
     */
    private boolean awaitReady() throws InterruptedException {
      long deadline = System.nanoTime() + STALL_GRACE_MILLIS * 1_000_000;
      synchronized (signal) {
        while (!call.isReady() && !call.isCancelled()) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          signal.wait(Math.max(1, Math.min(WAIT_MILLIS, left / 1_000_000)));
        }
      }
      return true;
    }

    /** Whether the newest event is more than limits.watcher-max-lag log entries past {@code at}. */
    private boolean tooFarBehind(long at) {
      long newest = context.raft().state().lastEventCursor();
      long behind = (newest >>> 16) - (at < 0 ? 0 : at >>> 16);
      return newest >= 0 && behind > flow.watcherMaxLag();
    }

    private void endTooSlow(long cursor) {
      endedTooSlow.incrementAndGet();
      String resumeAt = cursorText(cursor);
      call.onError(
          ApiErrors.error(
              Code.UNAVAILABLE,
              ErrorReason.WATCHER_TOO_SLOW,
              "this watcher stopped reading while more than "
                  + flow.watcherMaxLag()
                  + " log entries behind the newest event (limits.watcher-max-lag), so the node"
                  + " ended its stream; resume from cursor "
                  + resumeAt
                  + " (the last event sent) or from the last one you received",
              Map.of("cursor", resumeAt)));
    }
  }

  /** The client form of {@code cursor}: "index.sequence", or "0" for the beginning. */
  private static String cursorText(long cursor) {
    return cursor < 0 ? "0" : (cursor >>> 16) + "." + (cursor & 0xffff);
  }

  @Override
  public void close() {
    threads.shutdownNow();
  }
}
