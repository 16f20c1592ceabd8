package io.keyrotor.server.access;

/**
 * Decides whether a call may perform an operation on its target. The write path asks it for every
 * write RPC of KeyService and AdminService, once the request is validated and before anything is
 * built, sent to the HSM or proposed; a denial is answered PERMISSION_DENIED (reason
 * PERMISSION_DENIED) and changes nothing.
 *
 * <p>It is called on the thread that handles the call, before any asynchronous step, so the call's
 * gRPC {@code Context} is current: authentication and authorisation of every call is one more
 * implementation of this interface, reading the caller's identity that an authentication
 * interceptor put in the context and deciding per {@link Operation} and {@link Target}. Today's
 * only implementation is {@link PermitAllAuthorizer}.
 *
 * <p>Implementations must be thread-safe and must not block (no network calls on this thread).
 */
@FunctionalInterface
public interface Authorizer {
  /** Whether the current call may perform {@code operation} on {@code target}. */
  Decision authorize(Operation operation, Target target);
}
