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

  /** Convenience for lambdas: a listener that ignores errors. */
  static KeyEventListener of(java.util.function.Consumer<KeyEvent> onEvent) {
    return onEvent::accept;
  }
}
