package io.keyrotor.server.access;

import io.keyrotor.api.v1.ThrottledPrincipal;
import java.util.List;
import java.util.Map;

/**
 * Decides whether a call may perform an operation on its target. Every RPC of KeyService and
 * AdminService asks it once its request is validated and before anything is read, built, sent to
 * the HSM or proposed: writes through the write path, reads before the read barrier, the data plane
 * before the key is resolved (with the call's encryption context). A denial is answered
 * PERMISSION_DENIED (reason PERMISSION_DENIED) and changes nothing; a call without a principal is
 * UNAUTHENTICATED.
 *
 * <p>It is called on the thread that handles the call, before any asynchronous step, so the call's
 * gRPC {@code Context} is current: the caller's identity is the {@link Principal} the
 * authentication interceptor put there ({@link Caller}). The implementation is {@link
 * PolicyAuthorizer}; {@link PermitAllAuthorizer} remains for tests that are not about access.
 *
 * <p>Implementations must be thread-safe and must not block (no network calls on this thread).
 */
@FunctionalInterface
public interface Authorizer {
  /**
   * Whether the current call may perform {@code operation} on {@code target}, with the encryption
   * context {@code context} (empty for calls without one).
   */
  Decision authorize(Operation operation, Target target, Map<String, String> context);

  /** {@link #authorize(Operation, Target, Map)} of a call without an encryption context. */
  default Decision authorize(Operation operation, Target target) {
    return authorize(operation, target, Map.of());
  }

  /** The principals its quotas held back within the last minute (none if it has no quotas). */
  default List<ThrottledPrincipal> throttled() {
    return List.of();
  }
}
