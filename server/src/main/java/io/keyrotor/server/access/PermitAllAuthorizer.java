package io.keyrotor.server.access;

/**
 * Allows every operation on every target: keyrotor does not authenticate callers yet, so any client
 * that reaches the API may change any key. Replaced by a real {@link Authorizer} when calls carry
 * an identity.
 */
public final class PermitAllAuthorizer implements Authorizer {
  @Override
  public Decision authorize(Operation operation, Target target) {
    return Decision.allow();
  }
}
