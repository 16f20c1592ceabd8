package io.keyrotor.consensus;

/**
 * What a node does when its state store fails underneath an applied entry. Stopping is the only
 * safe answer: an entry skipped on one replica would make it diverge, while a restart replays it.
 */
@FunctionalInterface
public interface FatalErrorHandler {
  void onFatalError(String message, Throwable cause);

  /** Halts the JVM (exit code 70): a node process must not keep serving after such a failure. */
  static FatalErrorHandler haltProcess() {
    return (message, cause) -> {
      System.err.println("FATAL: " + message + ": " + cause);
      Runtime.getRuntime().halt(70);
    };
  }
}
