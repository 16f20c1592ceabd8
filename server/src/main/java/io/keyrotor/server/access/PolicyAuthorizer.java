package io.keyrotor.server.access;

import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.ThrottledPrincipal;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.access.AccessDecision;
import io.keyrotor.storage.access.AccessPolicy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The node's {@link Authorizer}: the replicated authorisation policy, as this node has applied it
 * ({@link StateView#accessPolicy()}, compiled once per policy version), decides every call. The
 * caller is the {@link Principal} in the call's context ({@link Caller}); a call without one is
 * UNAUTHENTICATED. A key named only is looked up in this node's applied state for its zone and
 * labels (no read barrier: a key's zone and labels never change once created). Every denial is
 * handed to the {@link DenialRecorder}, which writes it into the audit chain. An allowed call then
 * takes a token from each of the policy's quotas that covers it ({@link QuotaLimiter}); a quota
 * without one holds the call back (not audited: it is load, not a breach of the policy).
 *
 * <p>Writes are checked again at apply, against the policy at their log index, so a grant revoked
 * after this check cannot let a write through; reads and the data plane are answered by this node
 * and decided here alone.
 *
 * <p>An allowed check allocates nothing but what the state lookup does: the policy's patterns are
 * compiled and the bindings of each principal cached per policy version.
 */
public final class PolicyAuthorizer implements Authorizer {
  private static final Decision NO_PRINCIPAL =
      Decision.unauthenticated(
          "the call carries no authenticated principal (a client certificate is required)");

  private final Supplier<StateView> state;
  private final DenialRecorder denials;
  private final QuotaLimiter quotas;

  /**
   * @param state this node's applied state (read at each call: a snapshot install replaces it)
   * @param denials where denials go to be audited
   * @param quotas the token buckets of the policy's quotas on this node
   */
  public PolicyAuthorizer(Supplier<StateView> state, DenialRecorder denials, QuotaLimiter quotas) {
    this.state = state;
    this.denials = denials;
    this.quotas = quotas;
  }

  /** An authoriser with its own quota buckets on the system clocks. */
  public PolicyAuthorizer(Supplier<StateView> state, DenialRecorder denials) {
    this(state, denials, new QuotaLimiter(System::nanoTime, System::currentTimeMillis));
  }

  @Override
  public Decision authorize(Operation operation, Target target, Map<String, String> context) {
    Principal principal = Caller.PRINCIPAL.get();
    if (principal == null) {
      return NO_PRINCIPAL;
    }
    Permission permission = operation.permissionOrNull();
    if (permission == null) {
      return Decision.allow();
    }
    StateView view = state.get();
    AccessDecision decision = decide(view, principal.name(), permission, target, context);
    if (decision.allowed()) {
      QuotaLimiter.Refusal refusal =
          quotas.admit(view.accessPolicy(), principal.name(), permission);
      if (refusal == null) {
        return Decision.allow();
      }
      return Decision.throttled(
          "principal \""
              + principal.name()
              + "\" is over its quota \""
              + refusal.quota()
              + "\"; retry in "
              + Math.max(1, refusal.retryAfter().toMillis())
              + " ms",
          refusal.quota(),
          refusal.retryAfter());
    }
    denials.record(principal.name(), permission, target.keyName(), operation.fullMethodName());
    return Decision.deny(decision.explanation());
  }

  @Override
  public List<ThrottledPrincipal> throttled() {
    return quotas.throttled();
  }

  /** What {@code view}'s policy says about {@code principal} using {@code permission}. */
  public static AccessDecision decide(
      StateView view,
      String principal,
      Permission permission,
      Target target,
      Map<String, String> context) {
    AccessPolicy policy = view.accessPolicy();
    if (target.kind() == Target.Kind.KEY && !target.described()) {
      Optional<KeyRecord> key = view.key(target.name());
      if (key.isPresent()) {
        KeyRecord record = key.get();
        return policy.check(
            principal,
            permission,
            record.getName(),
            record.getZone(),
            record.getLabelsList(),
            context);
      }
      // A key this node does not know has no zone or labels: only unscoped bindings match.
      return policy.check(principal, permission, target.name(), "", List.of(), context);
    }
    return policy.check(
        principal, permission, target.keyName(), target.zone(), target.labels(), context);
  }
}
