package io.keyrotor.server.api;

import com.google.rpc.Code;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.server.config.ComplianceSettings;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;

/**
 * The zones each policy template allows ({@code compliance.template.<name>.zones}): CreateKey and
 * policy changes in a zone outside them are refused before anything is proposed, so a refused
 * request leaves no log entry. A template the settings do not name allows any zone.
 */
final class TemplateZones {
  private final ComplianceSettings settings;

  TemplateZones(ComplianceSettings settings) {
    this.settings = settings;
  }

  /** The zones {@code template} allows; empty when it allows any zone. */
  Optional<NavigableSet<String>> allowed(String template) {
    return Optional.ofNullable(settings.templateZones().get(template));
  }

  /** Whether a key of {@code policy} may live in {@code zone}. */
  boolean allows(RotationPolicyRecord policy, String zone) {
    return policy.getTemplate().isEmpty()
        || allowed(policy.getTemplate()).map(z -> z.contains(zone)).orElse(true);
  }

  /**
   * Refuses a key of {@code policy} in {@code zone} when the template does not allow it: {@code
   * code} is INVALID_ARGUMENT for a key being created (the request names the zone) and
   * FAILED_PRECONDITION for an existing key (its zone is state).
   */
  void require(RotationPolicyRecord policy, String zone, String keyName, Code code) {
    if (allows(policy, zone)) {
      return;
    }
    String template = policy.getTemplate();
    String zones = String.join(",", allowed(template).orElseThrow());
    StatusRuntimeException refusal =
        ApiErrors.error(
            code,
            ErrorReason.TEMPLATE_ZONE_NOT_ALLOWED,
            "key \""
                + keyName
                + "\" is in zone \""
                + zone
                + "\", which template "
                + template
                + " does not allow; it allows "
                + zones
                + " (compliance.template."
                + template
                + ".zones)",
            Map.of("template", template, "zone", zone, "allowed_zones", zones));
    throw refusal;
  }
}
