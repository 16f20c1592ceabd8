package io.keyrotor.consensus;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listeners told about every applied command, each on its own: a listener that throws is logged
 * and counted, and neither stops the node nor keeps the listeners after it from being called. The
 * state is already applied when listeners run, so their failure cannot make replicas diverge;
 * halting the node for it would turn a metrics or cache bug into an outage.
 *
 * <p>A failing listener is logged on its first failure and then once every {@link #LOG_EVERY}
 * failures, so one that fails on every entry cannot flood the log. Lines name the listener, the log
 * index and the exception; never the command or its result.
 *
 * <p>Called by the state machine's updater thread only; the counters may be read from any thread.
 */
final class ApplyListeners {
  /** After a listener's first failure, one log line per this many of its failures. */
  static final long LOG_EVERY = 1_000;

  private static final Logger LOG = LoggerFactory.getLogger(ApplyListeners.class);

  private final List<KeyrotorStateMachine.ApplyListener> listeners;
  private final AtomicLongArray failuresByListener;
  private final AtomicLong failures = new AtomicLong();

  ApplyListeners(List<KeyrotorStateMachine.ApplyListener> listeners) {
    this.listeners = List.copyOf(listeners);
    this.failuresByListener = new AtomicLongArray(this.listeners.size());
  }

  /** Calls every listener in order; one's failure is logged and counted, and the next one runs. */
  void applied(Command command, CommandResult result, long index, long nanos) {
    for (int i = 0; i < listeners.size(); i++) {
      KeyrotorStateMachine.ApplyListener listener = listeners.get(i);
      try {
        listener.applied(command, result, index, nanos);
      } catch (RuntimeException e) {
        failures.incrementAndGet();
        long count = failuresByListener.incrementAndGet(i);
        if (count == 1 || count % LOG_EVERY == 0) {
          LOG.warn(
              "Apply listener {} ({}) failed at index {}; the node goes on ({} failure(s) of this"
                  + " listener so far, logged once every {})",
              i,
              describe(listener),
              index,
              count,
              LOG_EVERY,
              e);
        }
      }
    }
  }

  /** How many times a listener threw, over all listeners. */
  long failures() {
    return failures.get();
  }

  /** How many times the listener at {@code position} (in the order given) threw. */
  long failures(int position) {
    return failuresByListener.get(position);
  }

  /** The listener's class, without the suffix the JVM gives a lambda's class. */
  private static String describe(KeyrotorStateMachine.ApplyListener listener) {
    return listener.getClass().getName().replaceFirst("\\$\\$Lambda.*$", "");
  }
}
