package io.keyrotor.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.Timestamp;
import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.ClockStatus;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.HsmStatus;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.LimitStatus;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.PeerClockOffset;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.RotationStatus;
import io.keyrotor.api.v1.ThrottledPrincipal;
import io.keyrotor.api.v1.TransportSecurity;
import io.keyrotor.client.Durations;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The CLI's {@code --json} shapes. Field order is fixed (the documented fields first, additions
 * after), names are snake_case, times are RFC 3339 in UTC, enum values drop their prefix ({@code
 * PRIMARY}, {@code LEADER}), and an unset value is {@code null} rather than absent.
 */
final class JsonOutput {

  private static final Gson GSON =
      new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

  private JsonOutput() {}

  /** One line of JSON. */
  static String render(JsonElement element) {
    return GSON.toJson(element);
  }

  /**
   * {@code {"name","zone","primary_version","versions":[{"version","state","activation_time",
   * "create_time","destroy_time","rotation_reason","required_acknowledgers","acknowledged_by",
   * "validation_deadline","encryptions","status_reason","demoted_time"}],"labels","revision",
   * "create_time","policy","next_rotation_time","dependents","rotation_requested_by",
   * "min_decryption_version","min_encryption_version"}}.
   */
  static JsonObject key(Key key) {
    JsonObject json = new JsonObject();
    json.addProperty("name", key.getName());
    json.addProperty("zone", key.getZone());
    json.addProperty("primary_version", Integer.toUnsignedLong(key.getPrimaryVersion()));
    JsonArray versions = new JsonArray();
    for (KeyVersion version : key.getVersionsList()) {
      versions.add(version(version));
    }
    json.add("versions", versions);
    JsonObject labels = new JsonObject();
    new TreeMap<>(key.getLabelsMap()).forEach(labels::addProperty);
    json.add("labels", labels);
    json.addProperty("revision", key.getRevision());
    json.add("create_time", time(key.hasCreateTime(), key.getCreateTime()));
    json.add(
        "policy", key.hasRotationPolicy() ? policy(key.getRotationPolicy()) : JsonNull.INSTANCE);
    json.add("next_rotation_time", time(key.hasNextRotationTime(), key.getNextRotationTime()));
    json.add("dependents", strings(key.getDependentsList()));
    json.add("rotation_requested_by", textOrNull(key.getRotationRequestedBy()));
    json.addProperty(
        "min_decryption_version", Integer.toUnsignedLong(key.getMinDecryptionVersion()));
    json.addProperty(
        "min_encryption_version", Integer.toUnsignedLong(key.getMinEncryptionVersion()));
    return json;
  }

  /** The key object of a rotation, followed by {@code new_version} and {@code activation_time}. */
  static JsonObject rotation(RotateKeyResponse response) {
    JsonObject json = key(response.getKey());
    json.addProperty("new_version", Integer.toUnsignedLong(response.getNewVersion()));
    json.add("activation_time", time(response.hasActivationTime(), response.getActivationTime()));
    return json;
  }

  /** {@code {"keys":[<key objects>]}}. */
  static JsonObject keys(Iterable<Key> keys) {
    JsonArray array = new JsonArray();
    for (Key key : keys) {
      array.add(key(key));
    }
    JsonObject json = new JsonObject();
    json.add("keys", array);
    return json;
  }

  /**
   * A membership change: the node it concerned, the voters after it, the zones a new node proved.
   */
  static JsonObject membership(String node, List<String> voters, List<String> verifiedZones) {
    JsonObject json = new JsonObject();
    json.addProperty("node", node);
    json.add("voters", strings(voters));
    json.add("verified_zones", strings(verifiedZones));
    return json;
  }

  /** A membership change's result, with the read replicas (non-voting listeners) after it. */
  static JsonObject membership(
      String node, List<String> voters, List<String> listeners, List<String> verifiedZones) {
    JsonObject json = membership(node, voters, verifiedZones);
    json.add("listeners", strings(listeners));
    return json;
  }

  /** The leader after a transfer. */
  static JsonObject leader(String leaderId) {
    JsonObject json = new JsonObject();
    json.addProperty("leader_id", leaderId);
    return json;
  }

  /**
   * {@code {"nodes":[{"id","region","role","term","applied_index","state_digest","zones",
   * "api_address","leader","error","hsm","transport","clock"}],"leader_id"}}, where {@code hsm} is
   * {@code {"kind", "module","token_label","mechanisms","healthy"}} or null when the node did not
   * report one, and {@code transport} is {@code {"mode" ("mutual_tls" or "insecure_plaintext"),
   * "certificate_subject","certificate_serial","certificate_not_after","expiry_warning",
   * "last_reload_failure"}} (text fields null when empty) or null when the node did not report it;
   * {@code clock} is as {@link #clock} says, or null. {@code throttled} lists {@code
   * {"principal","quota","refused","first_refused","last_refused"}} for the principals the node's
   * quotas held back within the last minute; {@code limits} lists the node's {@code
   * {"setting","value","ceiling"}}. {@code supported_cluster_version} is the highest apply version
   * the node's binary supports and {@code active_cluster_version} the cluster's version as the node
   * applied it (0: not reported, an unreachable node); the top-level {@code active_cluster_version}
   * is the answering node's.
   */
  static JsonObject cluster(ClusterStatus status) {
    JsonArray nodes = new JsonArray();
    for (NodeStatus node : status.getNodesList()) {
      JsonObject json = new JsonObject();
      json.addProperty("id", node.getId());
      json.addProperty("region", node.getRegion());
      json.addProperty("role", roleName(node.getRole()));
      json.addProperty("term", node.getTerm());
      json.addProperty("applied_index", node.getAppliedIndex());
      json.addProperty("state_digest", node.getStateDigest());
      JsonArray zones = new JsonArray();
      node.getZonesList().forEach(zones::add);
      json.add("zones", zones);
      json.addProperty("api_address", node.getApiAddress());
      json.addProperty(
          "leader",
          node.getRole() == NodeRole.NODE_ROLE_LEADER
              || (!status.getLeaderId().isEmpty() && status.getLeaderId().equals(node.getId())));
      json.add(
          "error",
          node.getError().isEmpty() ? JsonNull.INSTANCE : new JsonPrimitive(node.getError()));
      json.add("hsm", node.hasHsm() ? hsm(node.getHsm()) : JsonNull.INSTANCE);
      json.add(
          "transport",
          node.hasTransportSecurity() ? transport(node.getTransportSecurity()) : JsonNull.INSTANCE);
      json.add("clock", node.hasClock() ? clock(node.getClock()) : JsonNull.INSTANCE);
      JsonArray throttled = new JsonArray();
      for (ThrottledPrincipal t : node.getThrottledList()) {
        JsonObject entry = new JsonObject();
        entry.addProperty("principal", t.getPrincipal());
        entry.addProperty("quota", t.getQuota());
        entry.addProperty("refused", t.getRefused());
        entry.addProperty("first_refused", instant(t.getFirstRefused()).toString());
        entry.addProperty("last_refused", instant(t.getLastRefused()).toString());
        throttled.add(entry);
      }
      json.add("throttled", throttled);
      JsonArray limits = new JsonArray();
      for (LimitStatus limit : node.getLimitsList()) {
        JsonObject entry = new JsonObject();
        entry.addProperty("setting", limit.getSetting());
        entry.addProperty("value", Integer.toUnsignedLong(limit.getValue()));
        entry.addProperty("ceiling", Integer.toUnsignedLong(limit.getCeiling()));
        limits.add(entry);
      }
      json.add("limits", limits);
      json.addProperty("supported_cluster_version", node.getSupportedClusterVersion());
      json.addProperty("active_cluster_version", node.getActiveClusterVersion());
      nodes.add(json);
    }
    JsonObject json = new JsonObject();
    json.add("nodes", nodes);
    json.add(
        "leader_id",
        status.getLeaderId().isEmpty()
            ? JsonNull.INSTANCE
            : new JsonPrimitive(status.getLeaderId()));
    json.addProperty("active_cluster_version", status.getActiveClusterVersion());
    return json;
  }

  /**
   * {@code {"state", "max_offset_millis", "reason" (null when empty), "peers": [{"node_id",
   * "measured", "offset_millis", "round_trip_millis", "age_millis", "agrees"}]}}.
   */
  private static JsonObject clock(ClockStatus clock) {
    JsonObject json = new JsonObject();
    json.addProperty("state", clock.getState());
    json.addProperty("max_offset_millis", clock.getMaxOffsetMillis());
    json.add("reason", textOrNull(clock.getReason()));
    JsonArray peers = new JsonArray();
    for (PeerClockOffset peer : clock.getPeersList()) {
      JsonObject p = new JsonObject();
      p.addProperty("node_id", peer.getNodeId());
      p.addProperty("measured", peer.getMeasured());
      p.addProperty("offset_millis", peer.getOffsetMillis());
      p.addProperty("round_trip_millis", peer.getRoundTripMillis());
      p.addProperty("age_millis", peer.getAgeMillis());
      p.addProperty("agrees", peer.getAgrees());
      peers.add(p);
    }
    json.add("peers", peers);
    return json;
  }

  private static JsonObject transport(TransportSecurity transport) {
    JsonObject json = new JsonObject();
    json.addProperty(
        "mode",
        switch (transport.getMode()) {
          case TRANSPORT_MODE_MUTUAL_TLS -> "mutual_tls";
          case TRANSPORT_MODE_INSECURE_PLAINTEXT -> "insecure_plaintext";
          default -> "unknown";
        });
    json.add("certificate_subject", textOrNull(transport.getCertificateSubject()));
    json.add("certificate_serial", textOrNull(transport.getCertificateSerial()));
    json.add(
        "certificate_not_after",
        transport.hasCertificateNotAfter()
            ? new JsonPrimitive(
                Instant.ofEpochSecond(
                        transport.getCertificateNotAfter().getSeconds(),
                        transport.getCertificateNotAfter().getNanos())
                    .toString())
            : JsonNull.INSTANCE);
    json.add("expiry_warning", textOrNull(transport.getExpiryWarning()));
    json.add("last_reload_failure", textOrNull(transport.getLastReloadFailure()));
    return json;
  }

  private static JsonObject hsm(HsmStatus hsm) {
    JsonObject json = new JsonObject();
    json.addProperty("kind", hsm.getKind());
    json.add(
        "module",
        hsm.getModule().isEmpty() ? JsonNull.INSTANCE : new JsonPrimitive(hsm.getModule()));
    json.add(
        "token_label",
        hsm.getTokenLabel().isEmpty() ? JsonNull.INSTANCE : new JsonPrimitive(hsm.getTokenLabel()));
    JsonArray mechanisms = new JsonArray();
    hsm.getMechanismsList().forEach(mechanisms::add);
    json.add("mechanisms", mechanisms);
    json.addProperty("healthy", hsm.getHealthy());
    return json;
  }

  private static JsonObject version(KeyVersion version) {
    JsonObject json = new JsonObject();
    json.addProperty("version", Integer.toUnsignedLong(version.getVersion()));
    json.addProperty("state", stateName(version.getState()));
    json.add("activation_time", time(version.hasActivationTime(), version.getActivationTime()));
    json.add("create_time", time(version.hasCreateTime(), version.getCreateTime()));
    json.add("destroy_time", time(version.hasDestroyTime(), version.getDestroyTime()));
    String reason = reasonName(version.getRotationReason());
    json.add("rotation_reason", reason == null ? JsonNull.INSTANCE : new JsonPrimitive(reason));
    json.add("required_acknowledgers", strings(version.getRequiredAcknowledgersList()));
    json.add("acknowledged_by", strings(version.getAcknowledgedByList()));
    json.add(
        "validation_deadline",
        time(version.hasValidationDeadline(), version.getValidationDeadline()));
    json.addProperty("encryptions", version.getEncryptions());
    json.add("status_reason", textOrNull(version.getStatusReason()));
    json.add("demoted_time", time(version.hasDemotedTime(), version.getDemotedTime()));
    return json;
  }

  /**
   * {@code {"id","zone","label_selector","reason","start_time","total","remaining"}}: a bulk
   * rotation job; {@code zone} is null when the job selects by labels only.
   */
  static JsonObject bulkRotation(BulkRotation job) {
    JsonObject json = new JsonObject();
    json.addProperty("id", job.getId());
    json.add("zone", textOrNull(job.getZone()));
    JsonObject selector = new JsonObject();
    new TreeMap<>(job.getLabelSelectorMap()).forEach(selector::addProperty);
    json.add("label_selector", selector);
    String reason = reasonName(job.getReason());
    json.add("reason", reason == null ? JsonNull.INSTANCE : new JsonPrimitive(reason));
    json.add("start_time", time(job.hasStartTime(), job.getStartTime()));
    json.addProperty("total", job.getTotal());
    json.addProperty("remaining", job.getRemaining());
    return json;
  }

  /**
   * {@code {"cursor","time","event","key","version","reason","actor","log_index"}}: one lifecycle
   * event; {@code version} is null for events about the key as a whole (policy changes).
   */
  static JsonObject event(KeyEvent event) {
    JsonObject json = new JsonObject();
    json.addProperty("cursor", event.getCursor());
    json.add("time", time(event.hasTime(), event.getTime()));
    json.addProperty("event", eventName(event.getType()));
    json.addProperty("key", event.getKeyName());
    json.add(
        "version",
        event.getVersion() == 0
            ? JsonNull.INSTANCE
            : new JsonPrimitive(Integer.toUnsignedLong(event.getVersion())));
    String reason = reasonName(event.getReason());
    json.add("reason", reason == null ? JsonNull.INSTANCE : new JsonPrimitive(reason));
    json.add("actor", textOrNull(event.getActor()));
    json.addProperty("log_index", event.getLogIndex());
    return json;
  }

  /** {@code {"key","events":[<event objects>]}}: a key's history, oldest first. */
  static JsonObject history(String keyName, List<KeyEvent> events) {
    JsonObject json = new JsonObject();
    json.addProperty("key", keyName);
    JsonArray array = new JsonArray();
    events.forEach(event -> array.add(event(event)));
    json.add("events", array);
    return json;
  }

  /**
   * {@code {"rotations":[{"kind","key","zone","version","time","detail"}]}}, {@code kind} one of
   * {@code PENDING}, {@code DUE}, {@code LATE}, {@code SCHEDULED}, {@code FAILED}; {@code version}
   * null for due and scheduled rotations.
   */
  static JsonObject rotations(List<RotationStatus> rotations) {
    JsonArray array = new JsonArray();
    for (RotationStatus rotation : rotations) {
      JsonObject json = new JsonObject();
      json.addProperty("kind", kindName(rotation.getKind()));
      json.addProperty("key", rotation.getKeyName());
      json.addProperty("zone", rotation.getZone());
      json.add(
          "version",
          rotation.getVersion() == 0
              ? JsonNull.INSTANCE
              : new JsonPrimitive(Integer.toUnsignedLong(rotation.getVersion())));
      json.add("time", time(rotation.hasTime(), rotation.getTime()));
      json.add("detail", textOrNull(rotation.getDetail()));
      array.add(json);
    }
    JsonObject json = new JsonObject();
    json.add("rotations", array);
    return json;
  }

  static JsonArray strings(List<String> values) {
    JsonArray array = new JsonArray();
    values.forEach(array::add);
    return array;
  }

  static JsonElement textOrNull(String text) {
    return text.isEmpty() ? JsonNull.INSTANCE : new JsonPrimitive(text);
  }

  static JsonObject policy(RotationPolicy policy) {
    JsonObject json = new JsonObject();
    json.add("rotation_period", duration(policy.hasRotationPeriod(), policy.getRotationPeriod()));
    json.addProperty("max_encryptions", policy.getMaxEncryptions());
    json.add(
        "activation_delay", duration(policy.hasActivationDelay(), policy.getActivationDelay()));
    json.add("decrypt_grace", duration(policy.hasDecryptGrace(), policy.getDecryptGrace()));
    json.add(
        "next_rotation_time", time(policy.hasNextRotationTime(), policy.getNextRotationTime()));
    json.add(
        "template",
        policy.getTemplate().isEmpty()
            ? JsonNull.INSTANCE
            : new JsonPrimitive(policy.getTemplate()));
    json.add(
        "destroy_waiting_period",
        duration(policy.hasDestroyWaitingPeriod(), policy.getDestroyWaitingPeriod()));
    json.addProperty("require_validation", policy.getRequireValidation());
    return json;
  }

  /** RFC 3339 in UTC ({@code 2025-01-31T12:00:00Z}, fractions only when present), or null. */
  static String timeText(Timestamp timestamp) {
    return DateTimeFormatter.ISO_INSTANT.format(
        Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos()));
  }

  static JsonElement time(boolean present, Timestamp timestamp) {
    return present ? new JsonPrimitive(timeText(timestamp)) : JsonNull.INSTANCE;
  }

  static JsonElement duration(boolean present, com.google.protobuf.Duration duration) {
    if (!present) {
      return JsonNull.INSTANCE;
    }
    Duration value = Duration.ofSeconds(duration.getSeconds(), duration.getNanos());
    return value.isNegative() ? JsonNull.INSTANCE : new JsonPrimitive(Durations.format(value));
  }

  /** {@code KEY_VERSION_STATE_PRIMARY} becomes {@code PRIMARY}. */
  static String stateName(KeyVersionState state) {
    return stripPrefix(state.name(), "KEY_VERSION_STATE_");
  }

  /** {@code KEY_EVENT_TYPE_ACTIVATED} becomes {@code ACTIVATED}. */
  static String eventName(KeyEventType type) {
    return stripPrefix(type.name(), "KEY_EVENT_TYPE_");
  }

  /** {@code KIND_PENDING} becomes {@code PENDING}. */
  static String kindName(RotationStatus.Kind kind) {
    return stripPrefix(kind.name(), "KIND_");
  }

  /** {@code NODE_ROLE_LEADER} becomes {@code LEADER}. */
  static String roleName(NodeRole role) {
    return stripPrefix(role.name(), "NODE_ROLE_");
  }

  /** {@code ROTATION_REASON_MANUAL} becomes {@code MANUAL}; unspecified becomes null. */
  static String reasonName(RotationReason reason) {
    return reason == RotationReason.ROTATION_REASON_UNSPECIFIED
        ? null
        : stripPrefix(reason.name(), "ROTATION_REASON_");
  }

  private static String stripPrefix(String name, String prefix) {
    if (name.equals("UNRECOGNIZED")) {
      return "UNKNOWN";
    }
    return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
  }

  /** Labels as {@code k=v,k=v} in key order, for tables. */
  static String labelsText(Map<String, String> labels) {
    StringBuilder text = new StringBuilder();
    new TreeMap<>(labels)
        .forEach(
            (k, v) -> {
              if (text.length() > 0) {
                text.append(',');
              }
              text.append(k).append('=').append(v);
            });
    return text.toString();
  }

  static java.time.Instant instant(com.google.protobuf.Timestamp timestamp) {
    return java.time.Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }
}
