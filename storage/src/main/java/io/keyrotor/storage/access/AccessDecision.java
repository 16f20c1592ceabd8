package io.keyrotor.storage.access;

/**
 * The answer of an {@link AccessPolicy}: allowed by a binding (named), or denied with an
 * explanation that names the principal, the permission and the key (never a secret).
 *
 * @param allowed whether the call may go ahead
 * @param binding the name of the binding that allowed it; empty when denied
 * @param explanation why it was allowed or denied, for messages and {@code keyrotor policy test}
 */
public record AccessDecision(boolean allowed, String binding, String explanation) {}
