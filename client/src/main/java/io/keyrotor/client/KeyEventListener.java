package io.keyrotor.client;

import io.keyrotor.api.v1.KeyEvent;

/**
 * Receives the events of a {@link KeyEventSubscription}, one at a time, on the subscription's own
 * thread. Implementations should return quickly; an exception thrown from {@link #onEvent} ends the
 * subscription.
 */
public interface KeyEventListener {

  /** One lifecycle event, in log order. */
  void onEvent(KeyEvent event);

  /**
   * The subscription ended with an error that retrying cannot fix (for example NOT_FOUND,
   * PERMISSION_DENIED, UNIMPLEMENTED). Not called after {@link KeyEventSubscription#close()}.
   */
  default void onError(KeyrotorException error) {}

  /**
   * The stream broke because its node went away (stopped, unreachable, or the stream was reset);
   * the subscription goes on, resuming after {@code cursor} on whichever node answers next. Events
   * may be late meanwhile, none is lost. Called on the subscription's thread, once per break.
   *
   * @param cursor the cursor the stream resumes after (the last delivered event's, or the request's
   *     if none was delivered yet)
   */
  default void onInterrupted(KeyrotorException error, String cursor) {}

  /** Convenience for lambdas: a listener that ignores errors. */
  static KeyEventListener of(java.util.function.Consumer<KeyEvent> onEvent) {
    return onEvent::accept;
  }
}
