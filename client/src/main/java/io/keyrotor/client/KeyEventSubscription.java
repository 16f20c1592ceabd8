package io.keyrotor.client;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A running {@code WatchKeyEvents} stream that reconnects on retryable failures and resumes after
 * the cursor of the last delivered event. Created by {@link KeyrotorClient#watchKeyEvents}; close
 * it to stop.
 *
 * <p>Cursors are opaque to the client; the server's are {@code "logIndex.sequence"} (for example
 * {@code "1042.0"}), and a stream resumed from one starts with the first event after it, so no
 * event is delivered twice and none is skipped across a reconnect, whichever node answers. A watch
 * of some keys only resumes from the last event of those keys; the server skips the others again. A
 * node that serves too many watchers ({@code RESOURCE_EXHAUSTED}, {@code TOO_MANY_WATCHERS}) is
 * passed over for another one. A stream the node ended because the listener fell too far behind
 * ({@code WATCHER_TOO_SLOW}) is resumed from the last delivered cursor, like any reconnect; a
 * principal over its watcher limit ({@code TOO_MANY_WATCHERS_FOR_PRINCIPAL}) ends the subscription
 * with that error. A stream that broke because its node went away (see {@link #nodeWentAway}: a
 * stop, a lost connection, a stream reset) is resumed on another node and reported to {@link
 * KeyEventListener#onInterrupted}; any other error ends the subscription through {@link
 * KeyEventListener#onError}.
 *
 * <p>If the subscription started "from now" (no cursor) and fails before the first event, the
 * reconnected stream starts from the new "now": events in between are not seen. Pass the cursor "0"
 * to start from the oldest event the cluster keeps instead.
 */
public final class KeyEventSubscription implements AutoCloseable {

  private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();

  private final WatchKeyEventsRequest request;
  private final KeyEventListener listener;
  private final EndpointPool pool;
  private final Backoff backoff;
  private final Sleeper sleeper;
  private final Thread thread;
  private volatile boolean closed;
  private volatile String cursor;
  private volatile Context.CancellableContext current;

  KeyEventSubscription(
      WatchKeyEventsRequest request,
      KeyEventListener listener,
      EndpointPool pool,
      Backoff backoff,
      Sleeper sleeper) {
    this.request = request;
    this.listener = listener;
    this.pool = pool;
    this.backoff = backoff;
    this.sleeper = sleeper;
    this.cursor = request.getCursor();
    this.thread = new Thread(this::run, "keyrotor-watch-" + THREAD_NUMBER.incrementAndGet());
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /**
   * The cursor of the last event handed to the listener, already while the listener handles it (or
   * the request's cursor if none yet): pass it as {@code WatchKeyEventsRequest.cursor} to resume
   * after that event in a new subscription.
   */
  public String lastCursor() {
    return cursor;
  }

  /** True until the subscription is closed or ended with an error. */
  public boolean isActive() {
    return thread.isAlive() && !closed;
  }

  /** Stops the stream and waits up to a second for the event thread to end. */
  @Override
  public void close() {
    closed = true;
    Context.CancellableContext context = current;
    if (context != null) {
      context.cancel(null);
    }
    thread.interrupt();
    if (Thread.currentThread() != thread) {
      try {
        thread.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void run() {
    int failures = 0;
    Set<String> failedThisRound = new HashSet<>();
    while (!closed && !pool.isClosed()) {
      String target = pool.pick(failedThisRound);
      if (target == null) {
        failedThisRound.clear();
        if (!pause(failures++)) {
          return;
        }
        continue;
      }
      Context.CancellableContext context = Context.current().withCancellation();
      current = context;
      String cursorBefore = cursor;
      try {
        boolean delivered = stream(context, target);
        if (delivered) {
          failures = 0;
          failedThisRound.clear();
        }
        // The server ended the stream: resume from the cursor after a pause.
        if (!pause(failures++)) {
          return;
        }
      } catch (StatusRuntimeException e) {
        if (closed) {
          return;
        }
        KeyrotorException error = KeyrotorException.fromGrpc(e, target);
        if (error.hasReason(ErrorReason.TOO_MANY_WATCHERS)) {
          // This node serves as many watchers as it may; another node can serve this one.
          failedThisRound.add(target);
          if (!pause(failures++)) {
            return;
          }
          continue;
        }
        if (error.hasReason(ErrorReason.WATCHER_TOO_SLOW)) {
          // The node ended a stream this subscription fell behind on (the listener was slower
          // than the events): resume after the last delivered event, on any node, with no blame.
          if (!cursor.equals(cursorBefore)) {
            failures = 0;
            failedThisRound.clear();
          } else if (cursor.isEmpty() && error.metadata().containsKey("cursor")) {
            // Started "from now" and nothing arrived: the node's cursor is where "now" was.
            cursor = error.metadata().get("cursor");
          }
          if (!pause(failures++)) {
            return;
          }
          continue;
        }
        if (!nodeWentAway(error) || pool.isClosed()) {
          // A final error, or the client closed under the subscription: it ends here.
          listener.onError(error);
          closed = true;
          return;
        }
        try {
          listener.onInterrupted(error, cursor);
        } catch (RuntimeException thrown) {
          closed = true;
          listener.onError(listenerFailed(thrown));
          return;
        }
        if (!cursor.equals(cursorBefore)) {
          // The stream delivered before it broke: a fresh start, not one more failure in a row.
          failures = 0;
          failedThisRound.clear();
        }
        String hint =
            error.hasReason(ErrorReason.NOT_LEADER)
                ? validOrNull(error.metadata().get("leader"))
                : null;
        if (hint == null || hint.equals(target) || !pool.followHint(hint, target)) {
          pool.failed(target);
          failedThisRound.add(target);
        }
        if (!pause(failures++)) {
          return;
        }
      } catch (ListenerFailure e) {
        closed = true;
        listener.onError(listenerFailed(e.getCause()));
        return;
      } catch (IllegalStateException e) {
        return; // the client was closed under us
      } finally {
        context.cancel(null);
      }
    }
  }

  /** Streams from one endpoint until the stream ends; true if at least one event arrived. */
  private boolean stream(Context.CancellableContext context, String target) {
    Context previous = context.attach();
    try {
      WatchKeyEventsRequest resumed = request.toBuilder().setCursor(cursor).build();
      Iterator<KeyEvent> events = pool.endpoint(target).keys.watchKeyEvents(resumed);
      boolean delivered = false;
      while (events.hasNext()) {
        KeyEvent event = events.next();
        // Set first, so the listener (and whoever it signals) sees this event's cursor; a listener
        // that throws ends the subscription, so no event is skipped on a reconnect.
        if (!event.getCursor().isEmpty()) {
          cursor = event.getCursor();
        }
        try {
          listener.onEvent(event);
        } catch (RuntimeException e) {
          throw new ListenerFailure(e);
        }
        delivered = true;
      }
      return delivered;
    } finally {
      context.detach(previous);
    }
  }

  /**
   * Whether a stream that ended with {@code error} is resumed from the cursor (on the leader hint
   * or another node) rather than ending the subscription: the node went away or the stream broke
   * under it, as opposed to a node refusing this watch (those carry its ErrorInfo reason: not
   * allowed, cursor not valid, key unknown, a node's own INTERNAL_ERROR).
   *
   * <ul>
   *   <li>{@code UNAVAILABLE}: a node stopping ({@code SHUTTING_DOWN}), a lost connection, a
   *       GOAWAY, no leader; {@code DEADLINE_EXCEEDED}: no answer in time.
   *   <li>{@code CANCELLED} or {@code INTERNAL} without a reason: gRPC's report of a stream reset
   *       by the peer ({@code RST_STREAM}: {@code CANCEL} when a node's server is shut down with
   *       streams still open, which a stop that outlasts its grace period does; other reset codes
   *       and a stream cut mid-message are {@code INTERNAL}). A cancellation by this subscription
   *       itself never gets here (it is closed first).
   * </ul>
   */
  static boolean nodeWentAway(KeyrotorException error) {
    return switch (error.code()) {
      case UNAVAILABLE, DEADLINE_EXCEEDED -> true;
      case CANCELLED, INTERNAL -> error.reason().isEmpty();
      default -> false;
    };
  }

  private boolean pause(int failures) {
    if (closed) {
      return false;
    }
    try {
      sleeper.sleep(backoff.delay(failures));
      return !closed;
    } catch (InterruptedException e) {
      return false;
    }
  }

  /** The final error of a subscription whose listener threw {@code thrown}. */
  private static KeyrotorException listenerFailed(Throwable thrown) {
    return KeyrotorException.clientSide(
        Status.Code.CANCELLED,
        ErrorReason.LISTENER_FAILED,
        "the key event listener threw " + thrown,
        thrown);
  }

  private static String validOrNull(String address) {
    if (address == null) {
      return null;
    }
    try {
      return Endpoints.validate(address);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Carries an exception thrown by the listener out of the stream loop. */
  private static final class ListenerFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ListenerFailure(RuntimeException cause) {
      super(cause);
    }
  }
}
