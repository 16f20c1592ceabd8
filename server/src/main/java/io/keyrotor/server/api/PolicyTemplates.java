package io.keyrotor.server.api;

import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Named rotation policies for common regimes; a template fills the fields a request leaves unset.
 */
public final class PolicyTemplates {
  private static final Map<String, RotationPolicyRecord> TEMPLATES = new TreeMap<>();

  static {
    // PCI DSS 3.6.4: rotate at the end of the cryptoperiod, at most a year.
    TEMPLATES.put("pci-dss", template("pci-dss", Duration.ofDays(365)));
    TEMPLATES.put("high-sensitivity", template("high-sensitivity", Duration.ofDays(90)));
    // NIST SP 800-57: an originator-usage period of up to two years for symmetric data keys.
    TEMPLATES.put("nist-800-57", template("nist-800-57", Duration.ofDays(730)));
  }

  private PolicyTemplates() {}

  /** The template's policy, if a template of that name exists. */
  public static Optional<RotationPolicyRecord> find(String name) {
    return Optional.ofNullable(TEMPLATES.get(name));
  }

  /** Known template names, sorted. */
  public static Iterable<String> names() {
    return TEMPLATES.keySet();
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
    return out.build();
  }

  private static RotationPolicyRecord template(String name, Duration period) {
    return RotationPolicyRecord.newBuilder()
        .setTemplate(name)
        .setRotationPeriodMillis(period.toMillis())
        .setActivationDelayMillis(-1)
        .build();
  }
}
