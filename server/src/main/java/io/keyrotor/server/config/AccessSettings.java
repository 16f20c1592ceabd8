package io.keyrotor.server.config;

import com.google.common.base.Splitter;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Binding;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Role;
import io.keyrotor.storage.access.PolicyRules;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Authorisation settings ({@code access.*}).
 *
 * @param bootstrapPolicy the policy this node proposes when the cluster has none: {@code
 *     access.bootstrap-admins} as administrators, plus the roles of {@code
 *     access.bootstrap-role.NAME} and the bindings of {@code access.bootstrap-binding.PRINCIPAL};
 *     the empty policy when no administrator is configured (the node then proposes none)
 */
public record AccessSettings(AuthorizationPolicy bootstrapPolicy) {
  static final String BOOTSTRAP_ADMINS = "access.bootstrap-admins";
  static final String BOOTSTRAP_ROLE_PREFIX = "access.bootstrap-role.";
  static final String BOOTSTRAP_BINDING_PREFIX = "access.bootstrap-binding.";

  /** No bootstrap policy. */
  public static AccessSettings defaults() {
    return new AccessSettings(AuthorizationPolicy.getDefaultInstance());
  }

  /** The {@code access.*} lines of {@code p}; any other {@code access.} key is refused. */
  static AccessSettings parse(Properties p, String source) throws ConfigException {
    List<String> admins = new ConfigFields(p, source).list(BOOTSTRAP_ADMINS, "");
    SortedMap<String, String> roles = new TreeMap<>();
    SortedMap<String, String> bindings = new TreeMap<>();
    for (String key : p.stringPropertyNames()) {
      if (key.startsWith(BOOTSTRAP_ROLE_PREFIX)) {
        roles.put(key.substring(BOOTSTRAP_ROLE_PREFIX.length()), p.getProperty(key).trim());
      } else if (key.startsWith(BOOTSTRAP_BINDING_PREFIX)) {
        bindings.put(key.substring(BOOTSTRAP_BINDING_PREFIX.length()), p.getProperty(key).trim());
      } else if (key.startsWith("access.") && !key.equals(BOOTSTRAP_ADMINS)) {
        throw new ConfigException(source + ": unknown key " + key);
      }
    }
    if (admins.isEmpty()) {
      if (!roles.isEmpty() || !bindings.isEmpty()) {
        throw new ConfigException(
            source + ": access.bootstrap-role and -binding need access.bootstrap-admins");
      }
      return defaults();
    }
    AuthorizationPolicy.Builder policy = PolicyRules.bootstrap(admins).toBuilder();
    for (Map.Entry<String, String> role : roles.entrySet()) {
      policy.addRoles(role(role.getKey(), role.getValue(), source));
    }
    for (Map.Entry<String, String> binding : bindings.entrySet()) {
      policy.addBindings(
          Binding.newBuilder()
              .setName("bootstrap-" + binding.getKey())
              .setRole(binding.getValue())
              .setPrincipal(binding.getKey()));
    }
    AuthorizationPolicy built = policy.build();
    Optional<String> problem = PolicyRules.problem(built);
    if (problem.isPresent()) {
      throw new ConfigException(source + ": the bootstrap policy: " + problem.get());
    }
    return new AccessSettings(built);
  }

  /** The role {@code name} with the comma-separated permissions of {@code permissions}. */
  private static Role role(String name, String permissions, String source) throws ConfigException {
    Role.Builder built = Role.newBuilder().setName(name);
    for (String permissionName :
        Splitter.on(',').trimResults().omitEmptyStrings().split(permissions)) {
      String permission = "PERMISSION_" + permissionName.trim().toUpperCase(Locale.ROOT);
      var value = Permission.getDescriptor().findValueByName(permission);
      if (value == null || value.getNumber() == 0) {
        throw new ConfigException(
            source
                + ": "
                + BOOTSTRAP_ROLE_PREFIX
                + name
                + ": unknown permission "
                + permissionName);
      }
      built.addPermissions(Permission.forNumber(value.getNumber()));
    }
    return built.build();
  }
}
