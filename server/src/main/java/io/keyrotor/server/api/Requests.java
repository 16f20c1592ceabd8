package io.keyrotor.server.api;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.server.config.LimitSettings;
import io.keyrotor.server.config.LimitSettings.Limit;
import io.keyrotor.storage.Validation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Validation and conversion of request fields, before anything is proposed: bad input gets
 * INVALID_ARGUMENT with a message naming the field, and changes nothing.
 */
final class Requests {
  /** The longest activation delay a rotation may ask for. */
  static final long MAX_ACTIVATION_DELAY_MILLIS = java.time.Duration.ofDays(366).toMillis();

  private static final int MAX_REQUEST_ID_LENGTH = 128;

  private Requests() {}

  /** A key name in request field {@code name}. */
  static String keyName(String name) {
    return keyName(name, "name");
  }

  /** A key name in request field {@code field}. */
  static String keyName(String name, String field) {
    Optional<String> invalid = Validation.checkKeyName(name);
    if (invalid.isPresent()) {
      throw ApiErrors.invalid(field, ErrorReason.INVALID_KEY_NAME, invalid.get());
    }
    return name;
  }

  /**
   * The name of a key being created: {@link #keyName} and at most {@code limits.name-bytes} long
   * (names of existing keys are only checked for their syntax).
   */
  static String newKeyName(String name, LimitSettings limits) {
    keyName(name);
    int max = limits.get(Limit.NAME_BYTES);
    if (name.length() > max) {
      throw overLimit(
          "name",
          ErrorReason.INVALID_KEY_NAME,
          Limit.NAME_BYTES,
          max,
          "key name is " + name.length() + " bytes; this cluster allows " + max);
    }
    return name;
  }

  /**
   * Labels of a key (or a selector): at most {@code limits.labels-per-key} of them, each value at
   * most {@code limits.label-value-bytes} in UTF-8, then {@link #labels(Map, String)}.
   */
  static List<Label> labels(Map<String, String> labels, LimitSettings limits) {
    return labels(labels, limits, "labels");
  }

  /** {@link #labels(Map, LimitSettings)} of request field {@code field}. */
  static List<Label> labels(Map<String, String> labels, LimitSettings limits, String field) {
    int most = limits.get(Limit.LABELS_PER_KEY);
    if (labels.size() > most) {
      throw overLimit(
          field,
          ErrorReason.INVALID_LABEL,
          Limit.LABELS_PER_KEY,
          most,
          labels.size() + " labels; this cluster allows " + most);
    }
    int longest = limits.get(Limit.LABEL_VALUE_BYTES);
    for (Map.Entry<String, String> label : new TreeMap<>(labels).entrySet()) {
      int bytes = Validation.utf8Length(label.getValue());
      if (bytes > longest) {
        throw overLimit(
            field,
            ErrorReason.INVALID_LABEL,
            Limit.LABEL_VALUE_BYTES,
            longest,
            "the value of label \""
                + label.getKey()
                + "\" is "
                + bytes
                + " bytes; this cluster allows "
                + longest);
      }
    }
    return labels(labels, field);
  }

  /**
   * The reason of a cancellation or rollback, at most {@code limits.reason-bytes} in UTF-8: it is
   * stored with the version, in its event and in the audit record.
   */
  static String reason(String reason, LimitSettings limits) {
    int max = limits.get(Limit.REASON_BYTES);
    int bytes = Validation.utf8Length(reason);
    if (bytes > max) {
      throw overLimit(
          "reason",
          ErrorReason.REQUEST_TOO_LARGE,
          Limit.REASON_BYTES,
          max,
          "reason is " + bytes + " bytes; this cluster allows " + max);
    }
    return reason;
  }

  /**
   * INVALID_ARGUMENT with {@code reason} about request field {@code field}, saying which setting
   * sets the limit: metadata "limit" and "setting".
   */
  static StatusRuntimeException overLimit(
      String field, ErrorReason reason, Limit limit, int value, String message) {
    return ApiErrors.invalid(
        field,
        reason,
        message + " (" + limit.setting() + ")",
        Map.of("limit", Integer.toString(value), "setting", limit.setting()));
  }

  static String zone(String zone) {
    String value = zone.isEmpty() ? "default" : zone;
    Optional<String> invalid = Validation.checkZoneName(value);
    if (invalid.isPresent()) {
      throw ApiErrors.invalid("zone", ErrorReason.INVALID_ZONE, invalid.get());
    }
    return value;
  }

  static int version(long version) {
    if (version < 1) {
      throw ApiErrors.invalid(
          "version",
          ErrorReason.INVALID_VERSION,
          "a key version is required (versions count from 1)");
    }
    return (int) version;
  }

  static String requestId(String requestId) {
    if (requestId.isEmpty()) {
      return UUID.randomUUID().toString();
    }
    if (requestId.length() > MAX_REQUEST_ID_LENGTH) {
      throw ApiErrors.invalid(
          "request_id",
          ErrorReason.INVALID_REQUEST_ID,
          "request_id is longer than " + MAX_REQUEST_ID_LENGTH + " characters");
    }
    return requestId;
  }

  static List<Label> labels(Map<String, String> labels, String field) {
    List<Label> out = new ArrayList<>();
    new TreeMap<>(labels)
        .forEach((k, v) -> out.add(Label.newBuilder().setKey(k).setValue(v).build()));
    Optional<String> invalid = Validation.checkLabels(out);
    if (invalid.isPresent()) {
      throw ApiErrors.invalid(field, ErrorReason.INVALID_LABEL, invalid.get());
    }
    return out;
  }

  /** Activation delay in milliseconds, or -1 when the request leaves it unset. */
  static long activationDelay(boolean present, Duration delay) {
    if (!present) {
      return -1;
    }
    long millis = millis(delay, "activation_delay");
    if (millis > MAX_ACTIVATION_DELAY_MILLIS) {
      throw ApiErrors.invalid(
          "activation_delay",
          ErrorReason.INVALID_DURATION,
          "activation_delay must be at most 366 days");
    }
    return millis;
  }

  /**
   * {@link #policy(RotationPolicy, boolean, String)}, refusing periods below the cluster minimum.
   */
  static RotationPolicyRecord policy(
      RotationPolicy policy, boolean present, String template, java.time.Duration minimumPeriod) {
    RotationPolicyRecord record = policy(policy, present, template);
    long anchor = record.getNextRotationTimeUnixMillis();
    if (anchor != 0 && anchor < System.currentTimeMillis()) {
      throw ApiErrors.invalid(
          "rotation_policy.next_rotation_time",
          ErrorReason.INVALID_TIME,
          "next_rotation_time " + java.time.Instant.ofEpochMilli(anchor) + " is in the past");
    }
    long period = record.getRotationPeriodMillis();
    if (period > 0 && period < minimumPeriod.toMillis()) {
      throw ApiErrors.invalid(
          "rotation_policy.rotation_period",
          ErrorReason.ROTATION_PERIOD_TOO_SHORT,
          "rotation_period "
              + java.time.Duration.ofMillis(period)
              + " is below this cluster's minimum of "
              + minimumPeriod
              + " (rotation.minimum-period)");
    }
    return record;
  }

  static RotationPolicyRecord policy(RotationPolicy policy, boolean present, String template) {
    RotationPolicyRecord.Builder out =
        RotationPolicyRecord.newBuilder().setActivationDelayMillis(-1);
    if (present) {
      if (policy.hasRotationPeriod()) {
        long period = millis(policy.getRotationPeriod(), "rotation_policy.rotation_period");
        if (period == 0) {
          throw ApiErrors.invalid(
              "rotation_policy.rotation_period",
              ErrorReason.INVALID_POLICY,
              "rotation_period must be positive (leave it unset for no schedule)");
        }
        out.setRotationPeriodMillis(period);
      }
      out.setMaxEncryptions(policy.getMaxEncryptions());
      if (policy.hasActivationDelay()) {
        out.setActivationDelayMillis(activationDelay(true, policy.getActivationDelay()));
      }
      if (policy.hasDecryptGrace()) {
        out.setDecryptGraceMillis(
            millis(policy.getDecryptGrace(), "rotation_policy.decrypt_grace"));
      }
      if (policy.hasNextRotationTime()) {
        out.setNextRotationTimeUnixMillis(
            millis(policy.getNextRotationTime(), "rotation_policy.next_rotation_time"));
      }
      if (policy.hasDestroyWaitingPeriod()) {
        out.setDestroyWaitingPeriodMillis(
            millis(policy.getDestroyWaitingPeriod(), "destroy_waiting_period"));
      }
      out.setRequireValidation(policy.getRequireValidation());
    }
    String templateName = template.isEmpty() ? policy.getTemplate() : template;
    RotationPolicyRecord record = out.build();
    if (!templateName.isEmpty()) {
      RotationPolicyRecord found =
          PolicyTemplates.find(templateName)
              .orElseThrow(
                  () ->
                      ApiErrors.invalid(
                          "template",
                          ErrorReason.UNKNOWN_TEMPLATE,
                          "unknown policy template \""
                              + templateName
                              + "\"; known templates: "
                              + String.join(", ", PolicyTemplates.names())));
      record = PolicyTemplates.merge(found, record);
    }
    Optional<String> invalid = Validation.checkPolicy(record);
    if (invalid.isPresent()) {
      throw ApiErrors.invalid("rotation_policy", ErrorReason.INVALID_POLICY, invalid.get());
    }
    if (record.getRequireValidation() && record.getActivationDelayMillis() == 0) {
      throw ApiErrors.invalid(
          "rotation_policy.activation_delay",
          ErrorReason.TEMPLATE_REQUIREMENT_NOT_MET,
          "the policy requires validation-gated rotations"
              + (record.getTemplate().isEmpty() ? "" : " (template " + record.getTemplate() + ")")
              + ", which need an activation delay above zero");
    }
    return record;
  }

  static long millis(Duration d, String field) {
    if (d.getSeconds() < 0 || d.getNanos() < 0) {
      throw ApiErrors.invalid(field, ErrorReason.INVALID_DURATION, field + " must not be negative");
    }
    if (d.getSeconds() > 100L * 365 * 86_400) {
      throw ApiErrors.invalid(field, ErrorReason.INVALID_DURATION, field + " is too long");
    }
    return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
  }

  static long millis(Timestamp t, String field) {
    if (t.getSeconds() < 0) {
      throw ApiErrors.invalid(field, ErrorReason.INVALID_TIME, field + " must not be before 1970");
    }
    return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
  }

  static StatusRuntimeException tooLarge(String field, int size, int limit) {
    return ApiErrors.invalid(
        field,
        ErrorReason.REQUEST_TOO_LARGE,
        field + " is " + size + " bytes; the limit is " + limit);
  }
}
