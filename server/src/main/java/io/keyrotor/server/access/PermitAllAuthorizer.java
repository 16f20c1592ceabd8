package io.keyrotor.server.access;

import java.util.Map;

/**
 * Allows every operation on every target, to every caller, authenticated or not. Never used by a
 * node ({@link PolicyAuthorizer} is); kept for tests of components that are not about access.
 */
public final class PermitAllAuthorizer implements Authorizer {
  @Override
  public Decision authorize(Operation operation, Target target, Map<String, String> context) {
    return Decision.allow();
  }
}
