package io.keyrotor.server.api;

import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Named rotation policies for common regimes: the one table of templates. A template sets every
 * field of a policy that the request leaves unset (rotation period, encryption limit, activation
 * delay, decrypt grace, destroy waiting period, validation gate); the zones a template's keys may
 * live in are the node's {@code compliance.template.<name>.zones} ({@link TemplateZones}). A policy
 * value looser than its template's is accepted but reported as drift by the compliance report
 * ({@link #drift}), so a key created under an older, looser table shows up too.
 *
 * <p>Where a standard leaves a value to the organisation, the value is keyrotor's choice and the
 * source says so (docs/compliance.md cites each source).
 */
public final class PolicyTemplates {
  /** The cluster's hard encryption limit per version (2^31); a template may lower it only. */
  static final long HARD_ENCRYPTION_LIMIT = 1L << 31;

  private static final long DAY = Duration.ofDays(1).toMillis();
  private static final long HOUR = Duration.ofHours(1).toMillis();

  /**
   * A template: its policy and the source of its values.
   *
   * @param policy every value set; max_encryptions never above {@link #HARD_ENCRYPTION_LIMIT}
   */
  public record Template(String name, RotationPolicyRecord policy, String source) {}

  private static final Map<String, Template> TABLE = new TreeMap<>();

  static {
    //        name, period, limit, activation delay, grace, destroy wait, gate, source
    add(
        "pci-dss",
        365 * DAY,
        HARD_ENCRYPTION_LIMIT,
        HOUR,
        365 * DAY,
        30 * DAY,
        true,
        "PCI DSS v4.0 req. 3.6.1 and 3.7.4: keys change at the end of a cryptoperiod the key owner"
            + " defines (the standard sets no length); keyrotor chooses 365 days, the hard"
            + " encryption limit, a 365-day decrypt grace and a 30-day destroy wait (3.7.5)");
    add(
        "hipaa",
        365 * DAY,
        HARD_ENCRYPTION_LIMIT,
        HOUR,
        365 * DAY,
        30 * DAY,
        true,
        "HIPAA 45 CFR 164.312(a)(2)(iv) and (e)(2)(ii): encryption is an addressable"
            + " specification and no cryptoperiod is set; keyrotor chooses NIST SP 800-57's"
            + " one-year practice: 365 days, the hard limit, 365-day grace, 30-day destroy wait");
    add(
        "nist-800-57-moderate",
        730 * DAY,
        HARD_ENCRYPTION_LIMIT,
        HOUR,
        1095 * DAY,
        30 * DAY,
        true,
        "NIST SP 800-57 Part 1 Rev. 5 section 5.3.6: symmetric data-encryption keys, an"
            + " originator-usage period up to 2 years (730 days) and a recipient-usage period up"
            + " to 3 years beyond it (1095-day decrypt grace); the destroy wait is keyrotor's");
    add(
        "nist-800-57",
        730 * DAY,
        HARD_ENCRYPTION_LIMIT,
        HOUR,
        1095 * DAY,
        30 * DAY,
        true,
        "the earlier name of nist-800-57-moderate, kept for the keys that name it: the same"
            + " values (NIST SP 800-57 Part 1 Rev. 5 section 5.3.6)");
    add(
        "nist-800-57-high",
        365 * DAY,
        1L << 30,
        HOUR,
        365 * DAY,
        30 * DAY,
        true,
        "NIST SP 800-57 Part 1 Rev. 5 section 5.3: shorter cryptoperiods for higher risk; the"
            + " standard gives maxima only, so keyrotor chooses half of them (365-day period,"
            + " 365-day grace) and half the hard encryption limit (2^30)");
    add(
        "high-sensitivity",
        90 * DAY,
        1L << 30,
        HOUR,
        90 * DAY,
        30 * DAY,
        true,
        "keyrotor's own template for high-sensitivity data (no external standard): a 90-day"
            + " cryptoperiod and grace, half the hard encryption limit (2^30)");
  }

  private PolicyTemplates() {}

  private static void add(
      String name,
      long periodMillis,
      long maxEncryptions,
      long activationDelayMillis,
      long graceMillis,
      long destroyWaitMillis,
      boolean gated,
      String source) {
    if (maxEncryptions > HARD_ENCRYPTION_LIMIT) {
      throw new IllegalStateException(name + ": a template may not raise the hard limit");
    }
    RotationPolicyRecord policy =
        RotationPolicyRecord.newBuilder()
            .setTemplate(name)
            .setRotationPeriodMillis(periodMillis)
            .setMaxEncryptions(maxEncryptions)
            .setActivationDelayMillis(activationDelayMillis)
            .setDecryptGraceMillis(graceMillis)
            .setDestroyWaitingPeriodMillis(destroyWaitMillis)
            .setRequireValidation(gated)
            .build();
    TABLE.put(name, new Template(name, policy, source));
  }

  /** The template's policy, if a template of that name exists. */
  public static Optional<RotationPolicyRecord> find(String name) {
    return template(name).map(Template::policy);
  }

  /** The template of that name, if it exists. */
  public static Optional<Template> template(String name) {
    return Optional.ofNullable(TABLE.get(name));
  }

  /** Every template, by name. */
  public static Map<String, Template> all() {
    return Collections.unmodifiableMap(TABLE);
  }

  /** Known template names, sorted. */
  public static Iterable<String> names() {
    return TABLE.keySet();
  }

  /** {@code policy} with its unset fields taken from {@code template}. */
  static RotationPolicyRecord merge(RotationPolicyRecord template, RotationPolicyRecord policy) {
    RotationPolicyRecord.Builder out = policy.toBuilder().setTemplate(template.getTemplate());
    if (policy.getRotationPeriodMillis() == 0) {
      out.setRotationPeriodMillis(template.getRotationPeriodMillis());
    }
    if (policy.getMaxEncryptions() == 0) {
      out.setMaxEncryptions(template.getMaxEncryptions());
    }
    if (policy.getActivationDelayMillis() < 0) {
      out.setActivationDelayMillis(template.getActivationDelayMillis());
    }
    if (policy.getDecryptGraceMillis() == 0) {
      out.setDecryptGraceMillis(template.getDecryptGraceMillis());
    }
    if (policy.getDestroyWaitingPeriodMillis() == 0) {
      out.setDestroyWaitingPeriodMillis(template.getDestroyWaitingPeriodMillis());
    }
    out.setRequireValidation(policy.getRequireValidation() || template.getRequireValidation());
    return out.build();
  }

  /**
   * How {@code policy} is looser than {@code template}: one sentence per value, empty when it is as
   * strict or stricter everywhere. A value of 0 (no period, the hard limit, no grace, the cluster
   * minimum wait) counts as the loosest.
   */
  static java.util.List<String> drift(RotationPolicyRecord template, RotationPolicyRecord policy) {
    java.util.List<String> out = new java.util.ArrayList<>();
    long period = policy.getRotationPeriodMillis();
    if (period == 0 || period > template.getRotationPeriodMillis()) {
      out.add(
          "rotation_period "
              + (period == 0 ? "none" : Durations.text(period))
              + " is longer than the template's "
              + Durations.text(template.getRotationPeriodMillis()));
    }
    long limit =
        policy.getMaxEncryptions() == 0 ? HARD_ENCRYPTION_LIMIT : policy.getMaxEncryptions();
    if (limit > template.getMaxEncryptions()) {
      out.add(
          "max_encryptions " + limit + " is above the template's " + template.getMaxEncryptions());
    }
    long grace = policy.getDecryptGraceMillis();
    if (template.getDecryptGraceMillis() > 0
        && (grace == 0 || grace > template.getDecryptGraceMillis())) {
      out.add(
          "decrypt_grace "
              + (grace == 0 ? "unlimited" : Durations.text(grace))
              + " is longer than the template's "
              + Durations.text(template.getDecryptGraceMillis()));
    }
    if (policy.getDestroyWaitingPeriodMillis() < template.getDestroyWaitingPeriodMillis()) {
      out.add(
          "destroy_waiting_period "
              + Durations.text(policy.getDestroyWaitingPeriodMillis())
              + " is shorter than the template's "
              + Durations.text(template.getDestroyWaitingPeriodMillis()));
    }
    if (template.getRequireValidation() && !policy.getRequireValidation()) {
      out.add("rotations are not validation-gated; the template requires it");
    }
    return out;
  }
}
