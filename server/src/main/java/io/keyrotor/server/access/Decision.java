package io.keyrotor.server.access;

import java.time.Duration;

/**
 * An {@link Authorizer}'s answer: allowed; denied (PERMISSION_DENIED) with a sentence the caller
 * may read (it names the principal, the permission and the key, never a secret); refused because
 * the call has no authenticated principal (UNAUTHENTICATED); or allowed by the policy but held back
 * by one of its quotas (RESOURCE_EXHAUSTED), with the time until the quota has room again.
 *
 * @param quota the quota that held the call back, or null
 * @param retryAfter when that quota has a token again, or null
 */
public record Decision(
    boolean allowed,
    boolean authenticated,
    String denialReason,
    String quota,
    Duration retryAfter) {
  private static final Decision ALLOWED = new Decision(true, true, "", null, null);

  /** The call may go ahead. */
  public static Decision allow() {
    return ALLOWED;
  }

  /** The call is refused (PERMISSION_DENIED), for {@code reason}. */
  public static Decision deny(String reason) {
    return new Decision(false, true, reason, null, null);
  }

  /** The call carries no principal (UNAUTHENTICATED), for {@code reason}. */
  public static Decision unauthenticated(String reason) {
    return new Decision(false, false, reason, null, null);
  }

  /** The call is held back by {@code quota} (RESOURCE_EXHAUSTED) for {@code retryAfter}. */
  public static Decision throttled(String reason, String quota, Duration retryAfter) {
    return new Decision(false, true, reason, quota, retryAfter);
  }

  /** Whether a quota, not the policy's grants, refused the call. */
  public boolean throttled() {
    return quota != null;
  }
}
