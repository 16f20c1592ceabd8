package io.keyrotor.storage.access;

import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Binding;
import io.keyrotor.api.v1.ContextCondition;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Role;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.Label;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One version of the authorisation policy, compiled for evaluation: who may do what to which keys.
 * Default deny: a call is allowed only when a binding matches the principal, grants the permission
 * through its role, matches the key's name, zone and labels, and, if it has context conditions, the
 * call's encryption context.
 *
 * <p>Deterministic (no clock, no random source) and immutable but for a bounded cache of the
 * bindings that apply to each principal, so apply (storage) and the server decide alike. An allowed
 * check allocates nothing: patterns are compiled here once per version, and each binding holds its
 * allowing {@link AccessDecision}.
 */
public final class AccessPolicy {
  /** Most principals whose bindings are cached; beyond it they are computed per call. */
  static final int PRINCIPAL_CACHE_LIMIT = 4_096;

  /** The policy of a cluster that has none yet: everything is denied. */
  public static final AccessPolicy NONE =
      new AccessPolicy(AuthorizationPolicy.getDefaultInstance());

  private static final String PRINCIPAL_PLACEHOLDER = "${principal}";

  private final AuthorizationPolicy policy;
  private final CompiledBinding[] bindings;
  private final QuotaSet quotas;
  private final ConcurrentHashMap<String, CompiledBinding[]> byPrincipal =
      new ConcurrentHashMap<>();

  private AccessPolicy(AuthorizationPolicy policy) {
    this.policy = policy;
    Map<String, Integer> roles = new HashMap<>();
    for (Role role : policy.getRolesList()) {
      int mask = 0;
      for (Permission p : role.getPermissionsList()) {
        mask |= bit(p);
      }
      roles.merge(role.getName(), mask, (a, b) -> a | b);
    }
    List<CompiledBinding> compiled = new ArrayList<>();
    for (Binding binding : policy.getBindingsList()) {
      compiled.add(new CompiledBinding(binding, roles.getOrDefault(binding.getRole(), 0)));
    }
    this.bindings = compiled.toArray(CompiledBinding[]::new);
    this.quotas = QuotaSet.compile(policy.getQuotasList());
  }

  /** {@code policy} compiled. A role a binding names but the policy lacks grants nothing. */
  public static AccessPolicy compile(AuthorizationPolicy policy) {
    return new AccessPolicy(policy);
  }

  /** The policy as set (with its version and setter). */
  public AuthorizationPolicy policy() {
    return policy;
  }

  /** Its rate limits, compiled. */
  public QuotaSet quotas() {
    return quotas;
  }

  /** Its version: 0 when there is none, 1 for the bootstrap policy, one more per change. */
  public long version() {
    return policy.getVersion();
  }

  /** Whether {@code principal} may use {@code permission} on the whole cluster (no key). */
  public AccessDecision checkCluster(String principal, Permission permission) {
    return check(principal, permission, "", "", List.of(), Map.of());
  }

  /** Whether {@code principal} may use {@code permission} on {@code key} (no context). */
  public AccessDecision check(String principal, Permission permission, KeyRecord key) {
    return check(
        principal, permission, key.getName(), key.getZone(), key.getLabelsList(), Map.of());
  }

  /**
   * Whether {@code principal} may use {@code permission} on the key {@code keyName} of {@code zone}
   * carrying {@code labels}, with the encryption context {@code context} (empty for calls without
   * one). An empty key name is the cluster (or, with a zone, every key of the zone): only bindings
   * whose key pattern matches every key grant it.
   */
  public AccessDecision check(
      String principal,
      Permission permission,
      String keyName,
      String zone,
      List<Label> labels,
      Map<String, String> context) {
    int bit = bit(permission);
    boolean conditionsFailed = false;
    for (CompiledBinding binding : bindingsOf(principal)) {
      if ((binding.permissions & bit) == 0
          || !binding.key.matches(keyName)
          || !(binding.zone.isEmpty() || binding.zone.equals(zone))
          || !binding.labelsMatch(labels)) {
        continue;
      }
      if (binding.conditions.length > 0) {
        boolean dataPlane =
            bit == bit(Permission.PERMISSION_ENCRYPT) || bit == bit(Permission.PERMISSION_DECRYPT);
        if (!dataPlane || !binding.contextMatches(principal, context)) {
          conditionsFailed = true;
          continue;
        }
      }
      return binding.allowed;
    }
    return new AccessDecision(false, "", denial(principal, permission, keyName, conditionsFailed));
  }

  private String denial(
      String principal, Permission permission, String keyName, boolean conditionsFailed) {
    String target = keyName.isEmpty() ? "the cluster" : "key \"" + keyName + "\"";
    String why =
        policy.getVersion() == 0
            ? " (no authorisation policy is set yet)"
            : conditionsFailed
                ? " (a binding grants it only with an encryption context it did not have)"
                : "";
    return "principal \""
        + principal
        + "\" lacks "
        + permissionName(permission)
        + " on "
        + target
        + " under policy version "
        + policy.getVersion()
        + why;
  }

  /** {@code PERMISSION_DECRYPT} as {@code DECRYPT}. */
  public static String permissionName(Permission permission) {
    return permission.name().replaceFirst("^PERMISSION_", "");
  }

  private CompiledBinding[] bindingsOf(String principal) {
    CompiledBinding[] cached = byPrincipal.get(principal);
    if (cached != null) {
      return cached;
    }
    List<CompiledBinding> matching = new ArrayList<>();
    for (CompiledBinding binding : bindings) {
      if (binding.principal.matches(principal)) {
        matching.add(binding);
      }
    }
    CompiledBinding[] found = matching.toArray(CompiledBinding[]::new);
    if (byPrincipal.size() < PRINCIPAL_CACHE_LIMIT) {
      byPrincipal.putIfAbsent(principal, found);
    }
    return found;
  }

  static int bit(Permission permission) {
    int n = permission.getNumber();
    return n > 0 && n < 31 ? 1 << n : 0;
  }

  private static final class CompiledBinding {
    final Glob principal;
    final Glob key;
    final String zone;
    final String[] labelKeys;
    final String[] labelValues;
    final String[] conditionKeys;
    final String[] conditions;
    final int permissions;
    final AccessDecision allowed;

    CompiledBinding(Binding binding, int permissions) {
      this.principal = Glob.of(binding.getPrincipal().isEmpty() ? "\0" : binding.getPrincipal());
      this.key = Glob.of(binding.getKeyPattern());
      this.zone = binding.getZone();
      List<Map.Entry<String, String>> selector =
          new ArrayList<>(new TreeMap<>(binding.getLabelSelectorMap()).entrySet());
      this.labelKeys = selector.stream().map(Map.Entry::getKey).toArray(String[]::new);
      this.labelValues = selector.stream().map(Map.Entry::getValue).toArray(String[]::new);
      this.conditionKeys =
          binding.getContextConditionsList().stream()
              .map(ContextCondition::getKey)
              .toArray(String[]::new);
      this.conditions =
          binding.getContextConditionsList().stream()
              .map(ContextCondition::getValue)
              .toArray(String[]::new);
      this.permissions = permissions;
      this.allowed =
          new AccessDecision(
              true,
              binding.getName(),
              "allowed by binding \"" + binding.getName() + "\" (role " + binding.getRole() + ")");
    }

    boolean labelsMatch(List<Label> labels) {
      for (int i = 0; i < labelKeys.length; i++) {
        if (!hasLabel(labels, labelKeys[i], labelValues[i])) {
          return false;
        }
      }
      return true;
    }

    private static boolean hasLabel(List<Label> labels, String key, String value) {
      for (int j = 0; j < labels.size(); j++) {
        Label label = labels.get(j);
        if (label.getKey().equals(key)) {
          return label.getValue().equals(value);
        }
      }
      return false;
    }

    boolean contextMatches(String principalName, Map<String, String> context) {
      for (int i = 0; i < conditionKeys.length; i++) {
        String expected =
            conditions[i].equals(PRINCIPAL_PLACEHOLDER) ? principalName : conditions[i];
        if (!expected.equals(context.get(conditionKeys[i]))) {
          return false;
        }
      }
      return true;
    }
  }
}
