package io.keyrotor.server.access;

/**
 * An {@link Authorizer}'s answer: allowed, or denied with a sentence the caller may read (it names
 * what is missing, never a secret).
 */
public record Decision(boolean allowed, String denialReason) {
  private static final Decision ALLOWED = new Decision(true, "");

  /** The call may go ahead. */
  public static Decision allow() {
    return ALLOWED;
  }

  /** The call is refused (PERMISSION_DENIED), for {@code reason}. */
  public static Decision deny(String reason) {
    return new Decision(false, reason);
  }
}
