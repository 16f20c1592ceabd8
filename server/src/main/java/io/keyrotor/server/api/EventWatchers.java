package io.keyrotor.server.api;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import com.google.rpc.Code;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.storage.StateView;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * WatchKeyEvents: each watcher streams events from its cursor (or from now) in log order, then
 * waits for new ones. Events are read from this node's applied state, so a watcher on a follower
 * sees them a moment later than on the leader, never in another order; after a reconnect it resumes
 * from the cursor of the last event it received. A bounded number of watchers per node.
 */
public final class EventWatchers implements AutoCloseable {
  /** Most concurrent watchers on one node. */
  public static final int MAX_WATCHERS = 256;

  private static final int BATCH = 500;
  private static final long WAIT_MILLIS = 1_000;

  private final ServerContext context;
  private final Semaphore slots = new Semaphore(MAX_WATCHERS);
  private final ExecutorService threads =
      Executors.newCachedThreadPool(
          new ThreadFactoryBuilder().setNameFormat("keyrotor-watch").setDaemon(true).build());

  public EventWatchers(ServerContext context) {
    this.context = context;
  }

  void watch(WatchKeyEventsRequest request, StreamObserver<KeyEvent> response) {
    Set<String> names = Set.copyOf(request.getKeyNamesList());
    for (String name : names) {
      Requests.keyName(name);
    }
    long start =
        request.getCursor().isEmpty()
            ? context.raft().state().lastEventCursor()
            : RotationViews.parseCursor(request.getCursor());
    if (!slots.tryAcquire()) {
      throw ApiErrors.error(
          Code.RESOURCE_EXHAUSTED,
          ErrorReason.TOO_MANY_WATCHERS,
          "this node serves at most " + MAX_WATCHERS + " event watchers; use another node");
    }
    ServerCallStreamObserver<KeyEvent> call = (ServerCallStreamObserver<KeyEvent>) response;
    threads.execute(() -> stream(names, start, call));
  }

  private void stream(Set<String> names, long start, ServerCallStreamObserver<KeyEvent> call) {
    long cursor = start;
    try {
      while (!call.isCancelled()) {
        StateView store = context.raft().state();
        List<KeyEventRecord> events = store.eventsAfter(cursor, BATCH);
        for (KeyEventRecord event : events) {
          cursor = StateView.cursorOf(event.getLogIndex(), event.getSequence());
          if (names.isEmpty() || names.contains(event.getKeyName())) {
            call.onNext(RotationViews.event(event));
          }
        }
        if (events.isEmpty()) {
          store.awaitEventsAfter(cursor, WAIT_MILLIS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      call.onError(
          ApiErrors.error(
              Code.UNAVAILABLE, ErrorReason.SHUTTING_DOWN, "this node is shutting down"));
    } catch (RuntimeException e) {
      if (!call.isCancelled()) {
        call.onError(
            ApiErrors.error(
                Code.UNAVAILABLE,
                ErrorReason.WATCH_INTERRUPTED,
                "the event stream stopped (" + e.getMessage() + "); resume from the last cursor"));
      }
    } finally {
      slots.release();
    }
  }

  @Override
  public void close() {
    threads.shutdownNow();
  }
}
