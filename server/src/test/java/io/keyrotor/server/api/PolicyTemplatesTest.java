package io.keyrotor.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.server.config.ComplianceSettings;
import io.keyrotor.storage.EncryptionLimits;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The template table: whole policies, never above the hard limit, and drift from them. */
class PolicyTemplatesTest {
  private static final long DAY = Duration.ofDays(1).toMillis();

  @Test
  void table_holdsTheNamedTemplates_eachSettingEveryValue_noneAboveTheHardLimit() {
    assertEquals(
        List.of(
            "high-sensitivity",
            "hipaa",
            "nist-800-57",
            "nist-800-57-high",
            "nist-800-57-moderate",
            "pci-dss"),
        List.copyOf(PolicyTemplates.all().keySet()));
    assertEquals(EncryptionLimits.HARD_LIMIT, PolicyTemplates.HARD_ENCRYPTION_LIMIT);
    for (PolicyTemplates.Template template : PolicyTemplates.all().values()) {
      RotationPolicyRecord policy = template.policy();
      assertEquals(template.name(), policy.getTemplate());
      assertTrue(policy.getRotationPeriodMillis() > 0, template.name());
      assertTrue(policy.getMaxEncryptions() > 0, template.name());
      assertTrue(policy.getMaxEncryptions() <= EncryptionLimits.HARD_LIMIT, template.name());
      assertTrue(policy.getActivationDelayMillis() > 0, template.name());
      assertTrue(policy.getDecryptGraceMillis() > 0, template.name());
      assertTrue(policy.getDestroyWaitingPeriodMillis() > 0, template.name());
      assertTrue(policy.getRequireValidation(), template.name());
      assertTrue(PolicyTemplates.drift(policy, policy).isEmpty(), template.name());
      assertTrue(!template.source().isEmpty(), template.name());
    }
    assertEquals(
        90 * DAY, PolicyTemplates.find("high-sensitivity").orElseThrow().getRotationPeriodMillis());
  }

  @Test
  void request_templateFillsWhatIsUnset_andKeepsWhatIsGiven() {
    RotationPolicyRecord merged =
        Requests.policy(
            RotationPolicy.newBuilder()
                .setRotationPeriod(com.google.protobuf.Duration.newBuilder().setSeconds(86_400))
                .build(),
            true,
            "pci-dss");
    RotationPolicyRecord pci = PolicyTemplates.find("pci-dss").orElseThrow();
    assertEquals(pci.toBuilder().setRotationPeriodMillis(DAY).build(), merged);
  }

  @Test
  void request_gatedTemplateWithoutDelay_refused() {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                Requests.policy(
                    RotationPolicy.newBuilder()
                        .setActivationDelay(com.google.protobuf.Duration.getDefaultInstance())
                        .build(),
                    true,
                    "hipaa"));
    assertEquals("TEMPLATE_REQUIREMENT_NOT_MET", ApiErrors.reasonOf(e));
  }

  @Test
  void drift_namesEachLooserValue_stricterValuesComply() {
    RotationPolicyRecord template = PolicyTemplates.find("high-sensitivity").orElseThrow();
    RotationPolicyRecord stricter =
        template.toBuilder()
            .setRotationPeriodMillis(30 * DAY)
            .setMaxEncryptions(1000)
            .setDecryptGraceMillis(DAY)
            .setDestroyWaitingPeriodMillis(60 * DAY)
            .build();
    assertEquals(List.of(), PolicyTemplates.drift(template, stricter));
    RotationPolicyRecord looser =
        template.toBuilder()
            .setRotationPeriodMillis(0)
            .setMaxEncryptions(0)
            .setDecryptGraceMillis(0)
            .setDestroyWaitingPeriodMillis(DAY)
            .setRequireValidation(false)
            .build();
    assertEquals(
        List.of(
            "rotation_period none is longer than the template's 90d",
            "max_encryptions 2147483648 is above the template's 1073741824",
            "decrypt_grace unlimited is longer than the template's 90d",
            "destroy_waiting_period 1d is shorter than the template's 30d",
            "rotations are not validation-gated; the template requires it"),
        PolicyTemplates.drift(template, looser));
  }

  @Test
  void templateZones_refuseOtherZones_withTheAllowedOnesInTheError() {
    TreeMap<String, java.util.NavigableSet<String>> zones = new TreeMap<>();
    zones.put("pci-dss", new TreeSet<>(List.of("default", "pci")));
    TemplateZones templateZones = new TemplateZones(new ComplianceSettings(zones));
    RotationPolicyRecord pci = PolicyTemplates.find("pci-dss").orElseThrow();
    RotationPolicyRecord hipaa = PolicyTemplates.find("hipaa").orElseThrow();
    assertTrue(templateZones.allows(pci, "pci"));
    assertTrue(templateZones.allows(hipaa, "anywhere"));
    assertTrue(templateZones.allows(RotationPolicyRecord.getDefaultInstance(), "anywhere"));
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () -> templateZones.require(pci, "eu", "cards", com.google.rpc.Code.INVALID_ARGUMENT));
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals("TEMPLATE_ZONE_NOT_ALLOWED", ApiErrors.reasonOf(e));
    assertEquals(
        "default,pci", ApiErrors.errorInfo(e).orElseThrow().getMetadataOrThrow("allowed_zones"));
  }
}
