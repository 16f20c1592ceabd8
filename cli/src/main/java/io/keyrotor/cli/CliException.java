package io.keyrotor.cli;

/**
 * A failure the CLI detected itself (no cluster found, conflicting flags); its message is final.
 */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }

  CliException(String message, Throwable cause) {
    super(message, cause);
  }
}
