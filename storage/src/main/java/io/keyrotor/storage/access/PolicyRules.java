package io.keyrotor.storage.access;

import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Binding;
import io.keyrotor.api.v1.ContextCondition;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Quota;
import io.keyrotor.api.v1.Role;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The rules a policy must follow, checked by the server before it proposes one and again at apply
 * (so every replica refuses the same policies), and the bootstrap policy.
 */
public final class PolicyRules {
  /** Most roles a policy may have. */
  public static final int MAX_ROLES = 256;

  /** Most bindings a policy may have. */
  public static final int MAX_BINDINGS = 4_096;

  /** Most quotas a policy may have. */
  public static final int MAX_QUOTAS = 256;

  /** The highest rate and burst a quota may name. */
  public static final int MAX_QUOTA_RATE = 1_000_000;

  /** Longest name or pattern in a policy. */
  public static final int MAX_NAME_LENGTH = 512;

  /** Who set the bootstrap policy, as {@link AuthorizationPolicy#getSetBy()} shows it. */
  public static final String BOOTSTRAP_SETTER = "node configuration (access.bootstrap-admins)";

  /** The role the bootstrap policy gives its administrators. */
  public static final String ADMIN_ROLE = "admin";

  private PolicyRules() {}

  /** Every permission there is. */
  public static List<Permission> allPermissions() {
    return List.of(Permission.values()).stream()
        .filter(p -> p != Permission.PERMISSION_UNSPECIFIED && p != Permission.UNRECOGNIZED)
        .toList();
  }

  /** What is wrong with {@code policy}, or empty when it may be set. */
  public static Optional<String> problem(AuthorizationPolicy policy) {
    if (policy.getRolesCount() > MAX_ROLES) {
      return Optional.of("a policy has at most " + MAX_ROLES + " roles");
    }
    if (policy.getBindingsCount() > MAX_BINDINGS) {
      return Optional.of("a policy has at most " + MAX_BINDINGS + " bindings");
    }
    Map<String, Role> roles = new HashMap<>();
    for (Role role : policy.getRolesList()) {
      Optional<String> bad = name("role", role.getName());
      if (bad.isPresent()) {
        return bad;
      }
      if (roles.put(role.getName(), role) != null) {
        return Optional.of("role \"" + role.getName() + "\" is defined twice");
      }
      if (role.getPermissionsCount() == 0) {
        return Optional.of("role \"" + role.getName() + "\" has no permissions");
      }
      for (Permission p : role.getPermissionsList()) {
        if (p == Permission.PERMISSION_UNSPECIFIED || p == Permission.UNRECOGNIZED) {
          return Optional.of("role \"" + role.getName() + "\" names an unknown permission");
        }
      }
    }
    Set<String> bindings = new HashSet<>();
    boolean anyAdministrator = false;
    for (Binding binding : policy.getBindingsList()) {
      Optional<String> bad = name("binding", binding.getName());
      if (bad.isPresent()) {
        return bad;
      }
      String what = "binding \"" + binding.getName() + "\"";
      if (!bindings.add(binding.getName())) {
        return Optional.of(what + " is defined twice");
      }
      Role role = roles.get(binding.getRole());
      if (role == null) {
        return Optional.of(
            what + " names the role \"" + binding.getRole() + "\", which is not defined");
      }
      if (binding.getPrincipal().isEmpty()) {
        return Optional.of(what + " names no principal (use \"*\" for every principal)");
      }
      for (String field :
          List.of(binding.getPrincipal(), binding.getKeyPattern(), binding.getZone())) {
        if (field.length() > MAX_NAME_LENGTH) {
          return Optional.of(what + " has a pattern longer than " + MAX_NAME_LENGTH);
        }
      }
      for (ContextCondition c : binding.getContextConditionsList()) {
        if (c.getKey().isEmpty()) {
          return Optional.of(what + " has a context condition without a key");
        }
      }
      if (binding.getContextConditionsCount() > 0) {
        for (Permission p : role.getPermissionsList()) {
          if (p != Permission.PERMISSION_ENCRYPT && p != Permission.PERMISSION_DECRYPT) {
            return Optional.of(
                what
                    + " has context conditions, so its role may grant only ENCRYPT and DECRYPT,"
                    + " not "
                    + AccessPolicy.permissionName(p));
          }
        }
      }
      boolean unscoped = binding.getKeyPattern().isEmpty() || binding.getKeyPattern().equals("*");
      if (unscoped
          && binding.getZone().isEmpty()
          && binding.getLabelSelectorCount() == 0
          && role.getPermissionsList().contains(Permission.PERMISSION_ADMINISTER)) {
        anyAdministrator = true;
      }
    }
    Optional<String> badQuota = quotaProblem(policy);
    if (badQuota.isPresent()) {
      return badQuota;
    }
    if (!anyAdministrator) {
      return Optional.of(
          "no binding grants ADMINISTER on the whole cluster: the policy could never be changed"
              + " again");
    }
    return Optional.empty();
  }

  private static Optional<String> quotaProblem(AuthorizationPolicy policy) {
    if (policy.getQuotasCount() > MAX_QUOTAS) {
      return Optional.of("a policy has at most " + MAX_QUOTAS + " quotas");
    }
    Set<String> names = new HashSet<>();
    for (Quota quota : policy.getQuotasList()) {
      Optional<String> bad = name("quota", quota.getName());
      if (bad.isPresent()) {
        return bad;
      }
      String what = "quota \"" + quota.getName() + "\"";
      if (!names.add(quota.getName())) {
        return Optional.of(what + " is defined twice");
      }
      if (quota.getPrincipal().isEmpty()) {
        return Optional.of(what + " names no principal (use \"*\" for every principal)");
      }
      if (quota.getPrincipal().length() > MAX_NAME_LENGTH) {
        return Optional.of(what + " has a pattern longer than " + MAX_NAME_LENGTH);
      }
      double rate = quota.getRequestsPerSecond();
      if (!(rate > 0) || rate > MAX_QUOTA_RATE) {
        return Optional.of(
            what
                + " has requests_per_second "
                + rate
                + "; it must be more than 0 and at most "
                + MAX_QUOTA_RATE);
      }
      if (quota.getBurst() > MAX_QUOTA_RATE) {
        return Optional.of(
            what + " has burst " + quota.getBurst() + "; it may be at most " + MAX_QUOTA_RATE);
      }
      for (Permission p : quota.getPermissionsList()) {
        if (p == Permission.PERMISSION_UNSPECIFIED || p == Permission.UNRECOGNIZED) {
          return Optional.of(what + " names an unknown permission");
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<String> name(String kind, String name) {
    if (name.isEmpty()) {
      return Optional.of("a " + kind + " has no name");
    }
    if (name.length() > MAX_NAME_LENGTH) {
      return Optional.of(kind + " name longer than " + MAX_NAME_LENGTH);
    }
    return Optional.empty();
  }

  /**
   * The bootstrap policy: one role {@value #ADMIN_ROLE} with every permission, bound to each of
   * {@code admins} (bindings named {@code bootstrap-admin-<principal>}).
   */
  public static AuthorizationPolicy bootstrap(List<String> admins) {
    AuthorizationPolicy.Builder policy =
        AuthorizationPolicy.newBuilder()
            .addRoles(Role.newBuilder().setName(ADMIN_ROLE).addAllPermissions(allPermissions()));
    for (String admin : admins) {
      policy.addBindings(
          Binding.newBuilder()
              .setName("bootstrap-admin-" + admin)
              .setRole(ADMIN_ROLE)
              .setPrincipal(admin));
    }
    return policy.build();
  }
}
