package io.keyrotor.server.access;

/**
 * An {@link Authorizer}'s answer: allowed, denied (PERMISSION_DENIED) with a sentence the caller
 * may read (it names the principal, the permission and the key, never a secret), or refused because
 * the call has no authenticated principal (UNAUTHENTICATED).
 */
public record Decision(boolean allowed, boolean authenticated, String denialReason) {
  private static final Decision ALLOWED = new Decision(true, true, "");

  /** The call may go ahead. */
  public static Decision allow() {
    return ALLOWED;
  }

  /** The call is refused (PERMISSION_DENIED), for {@code reason}. */
  public static Decision deny(String reason) {
    return new Decision(false, true, reason);
  }

  /** The call carries no principal (UNAUTHENTICATED), for {@code reason}. */
  public static Decision unauthenticated(String reason) {
    return new Decision(false, false, reason);
  }
}
