package io.keyrotor.chaos.history;

/**
 * A history that cannot be checked: unparseable, or breaking the recording rules (a process with
 * two operations in flight, a completion without an invocation, time going backwards). It means the
 * harness is broken, not the system under test.
 */
public final class HistoryException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public HistoryException(String message) {
    super(message);
  }

  public HistoryException(String message, Throwable cause) {
    super(message, cause);
  }
}
