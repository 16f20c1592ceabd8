package io.keyrotor.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Binding;
import io.keyrotor.api.v1.ContextCondition;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Quota;
import io.keyrotor.api.v1.Role;
import io.keyrotor.api.v1.SetPolicyRequest;
import io.keyrotor.api.v1.TestPolicyRequest;
import io.keyrotor.api.v1.TestPolicyResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code keyrotor policy get|set|test}: the cluster's authorisation policy. The policy file is
 * JSON, the same shape {@code get --json} prints (so get, edit, set round-trips):
 *
 * <pre>
 * {"version": 3,
 *  "roles": [{"name": "crypto", "permissions": ["ENCRYPT", "DECRYPT"]}],
 *  "bindings": [{"name": "payments", "role": "crypto", "principal": "spiffe://x/payments",
 *                "key_pattern": "payments-*", "zone": "eu", "labels": {"team": "payments"},
 *                "context": {"tenant": "${principal}"}}]}
 * </pre>
 *
 * {@code set} replaces the policy only if it is still at the file's {@code version} (another
 * administrator's change in between is refused), unless {@code --force}.
 */
@Command(
    name = "policy",
    description = "Show, replace and test the authorisation policy (needs ADMINISTER).",
    subcommands = {PolicyCommand.Get.class, PolicyCommand.Set.class, PolicyCommand.Test.class})
final class PolicyCommand extends CommandArguments.Group {

  @Command(name = "get", description = "Show the policy in force.")
  static final class Get implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      AuthorizationPolicy policy = root.client().getPolicy();
      root.print(json(policy), human(policy));
    }
  }

  @Command(
      name = "set",
      description =
          "Replace the policy with the one in FILE (JSON; - for stdin). Refused if the policy"
              + " changed since the file's \"version\" (unless --force).")
  static final class Set implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Parameters(index = "0", paramLabel = "FILE", description = "The policy file (JSON).")
    String file;

    @Option(names = "--force", description = "Replace whatever version is in force.")
    boolean force;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      JsonObject document;
      try (InputStream in = CliFiles.open(root, file);
          Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
        document = JsonParser.parseReader(reader).getAsJsonObject();
      } catch (IOException | JsonParseException | IllegalStateException e) {
        throw new CliException("cannot read the policy file " + file + ": " + e.getMessage(), e);
      }
      AuthorizationPolicy policy = parse(document);
      long expected = force ? 0 : policy.getVersion();
      AuthorizationPolicy set =
          root.client()
              .setPolicy(
                  SetPolicyRequest.newBuilder()
                      .setPolicy(policy)
                      .setExpectedVersion(expected)
                      .build());
      root.print(json(set), "policy version " + set.getVersion() + " set\n");
    }
  }

  @Command(
      name = "test",
      description =
          "Would PRINCIPAL be allowed PERMISSION on KEY (none: the cluster) with the --context"
              + " pairs, and by which binding?")
  static final class Test implements Runnable {
    @Mixin SharedOptions.Context context;

    @Parameters(index = "0", paramLabel = "PRINCIPAL", description = "The principal.")
    String principal;

    @Parameters(
        index = "1",
        paramLabel = "PERMISSION",
        description =
            "READ_KEYS, CONFIGURE_KEYS, ROTATE_KEYS, ENABLE_DISABLE_VERSIONS,"
                + " DESTROY_VERSIONS, ENCRYPT, DECRYPT, READ_AUDIT or ADMINISTER.")
    String permission;

    @Parameters(index = "2", arity = "0..1", paramLabel = "KEY", description = "The key.")
    String key = "";

    @Override
    public void run() {
      KeyrotorCli root = context.root();
      TestPolicyResponse answer =
          root.client()
              .testPolicy(
                  TestPolicyRequest.newBuilder()
                      .setPrincipal(principal)
                      .setPermission(permission(permission))
                      .setKeyName(key)
                      .putAllContext(context.pairs())
                      .build());
      JsonObject out = new JsonObject();
      out.addProperty("allowed", answer.getAllowed());
      out.addProperty("binding", answer.getBinding());
      out.addProperty("explanation", answer.getExplanation());
      out.addProperty("policy_version", answer.getPolicyVersion());
      root.print(
          out, (answer.getAllowed() ? "allowed: " : "denied: ") + answer.getExplanation() + "\n");
    }
  }

  static Permission permission(String name) {
    String full = "PERMISSION_" + name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    var value = Permission.getDescriptor().findValueByName(full);
    if (value == null || value.getNumber() == 0) {
      throw new CliException("unknown permission " + name);
    }
    return Permission.forNumber(value.getNumber());
  }

  static String name(Permission permission) {
    return permission.name().substring("PERMISSION_".length());
  }

  /** The policy file's JSON as a policy (its "version" the expected version). */
  static AuthorizationPolicy parse(JsonObject document) {
    try {
      AuthorizationPolicy.Builder policy = AuthorizationPolicy.newBuilder();
      if (document.has("version")) {
        policy.setVersion(document.get("version").getAsLong());
      }
      for (JsonElement r : array(document, "roles")) {
        JsonObject role = r.getAsJsonObject();
        Role.Builder built = Role.newBuilder().setName(string(role, "name"));
        for (JsonElement p : array(role, "permissions")) {
          built.addPermissions(permission(p.getAsString()));
        }
        policy.addRoles(built);
      }
      for (JsonElement b : array(document, "bindings")) {
        JsonObject binding = b.getAsJsonObject();
        Binding.Builder built =
            Binding.newBuilder()
                .setName(string(binding, "name"))
                .setRole(string(binding, "role"))
                .setPrincipal(string(binding, "principal"))
                .setKeyPattern(string(binding, "key_pattern"))
                .setZone(string(binding, "zone"));
        if (binding.has("labels")) {
          for (Map.Entry<String, JsonElement> e : binding.getAsJsonObject("labels").entrySet()) {
            built.putLabelSelector(e.getKey(), e.getValue().getAsString());
          }
        }
        if (binding.has("context")) {
          for (Map.Entry<String, JsonElement> e : binding.getAsJsonObject("context").entrySet()) {
            built.addContextConditions(
                ContextCondition.newBuilder()
                    .setKey(e.getKey())
                    .setValue(e.getValue().getAsString()));
          }
        }
        policy.addBindings(built);
      }
      for (JsonElement q : array(document, "quotas")) {
        JsonObject quota = q.getAsJsonObject();
        Quota.Builder built =
            Quota.newBuilder()
                .setName(string(quota, "name"))
                .setPrincipal(string(quota, "principal"));
        for (JsonElement p : array(quota, "permissions")) {
          built.addPermissions(permission(p.getAsString()));
        }
        if (quota.has("requests_per_second")) {
          built.setRequestsPerSecond(quota.get("requests_per_second").getAsDouble());
        }
        if (quota.has("burst")) {
          long burst = quota.get("burst").getAsLong();
          if (burst < 0 || burst > 0xFFFF_FFFFL) {
            throw new CliException("malformed policy file: quota burst " + burst + " out of range");
          }
          built.setBurst((int) burst);
        }
        policy.addQuotas(built);
      }
      return policy.build();
    } catch (IllegalStateException | UnsupportedOperationException | ClassCastException e) {
      throw new CliException("malformed policy file: " + e.getMessage(), e);
    }
  }

  private static JsonArray array(JsonObject object, String field) {
    return object.has(field) ? object.getAsJsonArray(field) : new JsonArray();
  }

  private static String string(JsonObject object, String field) {
    return object.has(field) ? object.get(field).getAsString() : "";
  }

  static JsonObject json(AuthorizationPolicy policy) {
    JsonObject out = new JsonObject();
    out.addProperty("version", policy.getVersion());
    out.addProperty("set_by", policy.getSetBy());
    JsonArray roles = new JsonArray();
    for (Role role : policy.getRolesList()) {
      JsonObject r = new JsonObject();
      r.addProperty("name", role.getName());
      JsonArray permissions = new JsonArray();
      role.getPermissionsList().forEach(p -> permissions.add(name(p)));
      r.add("permissions", permissions);
      roles.add(r);
    }
    out.add("roles", roles);
    JsonArray bindings = new JsonArray();
    for (Binding binding : policy.getBindingsList()) {
      JsonObject b = new JsonObject();
      b.addProperty("name", binding.getName());
      b.addProperty("role", binding.getRole());
      b.addProperty("principal", binding.getPrincipal());
      if (!binding.getKeyPattern().isEmpty()) {
        b.addProperty("key_pattern", binding.getKeyPattern());
      }
      if (!binding.getZone().isEmpty()) {
        b.addProperty("zone", binding.getZone());
      }
      if (binding.getLabelSelectorCount() > 0) {
        JsonObject labels = new JsonObject();
        new java.util.TreeMap<>(binding.getLabelSelectorMap()).forEach(labels::addProperty);
        b.add("labels", labels);
      }
      if (binding.getContextConditionsCount() > 0) {
        JsonObject context = new JsonObject();
        binding
            .getContextConditionsList()
            .forEach(c -> context.addProperty(c.getKey(), c.getValue()));
        b.add("context", context);
      }
      bindings.add(b);
    }
    out.add("bindings", bindings);
    JsonArray quotas = new JsonArray();
    for (Quota quota : policy.getQuotasList()) {
      JsonObject q = new JsonObject();
      q.addProperty("name", quota.getName());
      q.addProperty("principal", quota.getPrincipal());
      JsonArray permissions = new JsonArray();
      quota.getPermissionsList().forEach(p -> permissions.add(name(p)));
      q.add("permissions", permissions);
      q.addProperty("requests_per_second", quota.getRequestsPerSecond());
      q.addProperty("burst", Integer.toUnsignedLong(quota.getBurst()));
      quotas.add(q);
    }
    out.add("quotas", quotas);
    return out;
  }

  static String human(AuthorizationPolicy policy) {
    if (policy.getVersion() == 0) {
      return "no authorisation policy yet (every call is denied)\n";
    }
    StringBuilder out =
        new StringBuilder(
            "policy version " + policy.getVersion() + ", set by " + policy.getSetBy() + "\n");
    out.append("roles:\n");
    for (Role role : policy.getRolesList()) {
      out.append("  ").append(role.getName()).append(": ");
      out.append(
          String.join(", ", role.getPermissionsList().stream().map(PolicyCommand::name).toList()));
      out.append('\n');
    }
    out.append("bindings:\n");
    for (Binding b : policy.getBindingsList()) {
      out.append("  ")
          .append(b.getName())
          .append(": ")
          .append(b.getPrincipal())
          .append(" -> ")
          .append(b.getRole())
          .append(" on ")
          .append(b.getKeyPattern().isEmpty() ? "*" : b.getKeyPattern());
      if (!b.getZone().isEmpty()) {
        out.append(" zone=").append(b.getZone());
      }
      new java.util.TreeMap<>(b.getLabelSelectorMap())
          .forEach((k, v) -> out.append(" label ").append(k).append('=').append(v));
      for (ContextCondition c : b.getContextConditionsList()) {
        out.append(" if context ").append(c.getKey()).append('=').append(c.getValue());
      }
      out.append('\n');
    }
    if (policy.getQuotasCount() > 0) {
      out.append("quotas:\n");
      for (Quota q : policy.getQuotasList()) {
        out.append("  ").append(q.getName()).append(": ").append(q.getPrincipal());
        out.append(" ").append(q.getRequestsPerSecond()).append("/s");
        if (q.getBurst() > 0) {
          out.append(" burst ").append(Integer.toUnsignedLong(q.getBurst()));
        }
        out.append(" on ");
        out.append(
            q.getPermissionsCount() == 0
                ? "every call"
                : String.join(
                    ", ", q.getPermissionsList().stream().map(PolicyCommand::name).toList()));
        out.append('\n');
      }
    }
    return out.toString();
  }
}
