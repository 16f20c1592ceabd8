package io.keyrotor.chaos.workload;

/**
 * A request that did not succeed, classified by what the server guarantees: {@link #definite()}
 * only when the server guarantees nothing was applied (validation and rule rejections, a request
 * that never reached the node); everything else (timeouts, UNAVAILABLE after the server may have
 * proposed, resets, unknown errors) may have taken effect.
 */
public final class OpError extends Exception {
  private static final long serialVersionUID = 1L;

  private final boolean definite;
  private final String code;
  private final String reasonOrEmpty;

  public OpError(boolean definite, String code, String reasonOrEmpty, String message) {
    super(message);
    this.definite = definite;
    this.code = code;
    this.reasonOrEmpty = reasonOrEmpty == null ? "" : reasonOrEmpty;
  }

  /** The server guarantees the request was not applied. */
  public boolean definite() {
    return definite;
  }

  /** The gRPC status code name (or an exception name). */
  public String code() {
    return code;
  }

  /** The ErrorInfo reason (KEY_NOT_FOUND, VERSION_CONFLICT, ...), or empty. */
  public String reasonOrEmpty() {
    return reasonOrEmpty;
  }

  public boolean unimplemented() {
    return "UNIMPLEMENTED".equals(code);
  }

  /** What the history records: "CODE REASON: message" (message cut to 200 characters). */
  public String describe() {
    String message = getMessage() == null ? "" : getMessage();
    if (message.length() > 200) {
      message = message.substring(0, 200) + "...";
    }
    return code + (reasonOrEmpty.isEmpty() ? "" : " " + reasonOrEmpty) + ": " + message;
  }
}
