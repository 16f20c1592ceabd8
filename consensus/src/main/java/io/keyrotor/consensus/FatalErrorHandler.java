package io.keyrotor.consensus;

/**
 * What a node does when its state store fails underneath an applied entry. Stopping is the only
 * safe answer: an entry skipped on one replica would make it diverge, while a restart replays it.
 */
@FunctionalInterface
public interface FatalErrorHandler {
  void onFatalError(String message, Throwable cause);

  /** The exit code of a node that stopped because the log needs a newer binary. */
  int UPGRADE_REQUIRED_EXIT_CODE = 78;

  /**
   * Halts the JVM: a node process must not keep serving after such a failure. Exit code 70, or
   * {@link #UPGRADE_REQUIRED_EXIT_CODE} when the cause is a cluster version this binary does not
   * support (replace the binary, then start the node again).
   */
  static FatalErrorHandler haltProcess() {
    return (message, cause) -> {
      System.err.println("FATAL: " + message + ": " + cause);
      Runtime.getRuntime()
          .halt(
              cause instanceof io.keyrotor.storage.version.UnsupportedClusterVersionException
                  ? UPGRADE_REQUIRED_EXIT_CODE
                  : 70);
    };
  }
}
