package io.keyrotor.server.api;

import io.keyrotor.api.v1.ComplianceFinding;
import io.keyrotor.api.v1.FindingKind;
import io.keyrotor.api.v1.KeyCompliance;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RetiredVersion;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.EncryptionLimits;
import io.keyrotor.storage.KeyVersions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableSet;
import java.util.Optional;

/**
 * What the compliance report says of one key at one time: its cryptoperiod and usage, and its
 * findings against its policy and template. A pure function of the key record, the zones' nodes and
 * the evaluation time, so the same state gives the same report on every replica.
 *
 * <p>Usage counted: encryptions reserved under each version (an upper bound of those performed),
 * and the data keys the nodes reported issuing under it and rewrapping away from it (what a retired
 * version still has outstanding). Not counted: decryptions, which the replicated state does not
 * record; a retired version is reported because it still <em>can</em> decrypt, not because it did.
 */
final class KeyComplianceCheck {
  /** The label naming who answers for a key; shown with its exceptions. */
  static final String OWNER_LABEL = "owner";

  /** A primary version that used this share of its encryption limit is reported. */
  static final double LIMIT_WARNING_SHARE = 0.9;

  private final TemplateZones templateZones;
  private final long nowMillis;
  private final long retiredDecryptAfterMillis;

  /**
   * @param nowMillis the time states and ages are evaluated at
   * @param retiredDecryptAfterMillis for keys without a decrypt grace: how long a retired version
   *     may still decrypt before it is reported
   */
  KeyComplianceCheck(TemplateZones templateZones, long nowMillis, long retiredDecryptAfterMillis) {
    this.templateZones = templateZones;
    this.nowMillis = nowMillis;
    this.retiredDecryptAfterMillis = retiredDecryptAfterMillis;
  }

  /** The report's entry for {@code key}, whose zone is held by {@code zoneNodes}. */
  KeyCompliance check(KeyRecord key, NavigableSet<String> zoneNodes) {
    RotationPolicyRecord policy = key.getPolicy();
    KeyCompliance.Builder out =
        KeyCompliance.newBuilder()
            .setName(key.getName())
            .setZone(key.getZone())
            .setOwner(owner(key))
            .setTemplate(policy.getTemplate())
            .setPolicy(KeyViews.policy(policy))
            .addAllZoneNodes(zoneNodes);
    int primary = KeyVersions.primaryVersionAt(key, nowMillis);
    out.setPrimaryVersion(primary);
    Optional<KeyVersionRecord> primaryRecord = KeyVersions.find(key, primary);
    long limit = EncryptionLimits.limit(key);
    out.setPrimaryEncryptionLimit(limit);
    primaryRecord.ifPresent(
        v -> {
          long activated = v.getActivationTimeUnixMillis();
          out.setLastRotationTime(KeyViews.timestamp(activated))
              .setPrimaryAge(KeyViews.duration(Math.max(0, nowMillis - activated)))
              .setPrimaryEncryptions(EncryptionLimits.counted(v));
        });
    if (key.getNextRotationTimeUnixMillis() != 0) {
      out.setNextRotationTime(KeyViews.timestamp(key.getNextRotationTimeUnixMillis()));
    }
    List<ComplianceFinding> findings = new ArrayList<>();
    policyFindings(key, findings);
    if (zoneNodes.isEmpty()) {
      findings.add(
          finding(
              FindingKind.FINDING_KIND_ZONE_UNSERVED,
              0,
              "no registered node holds" + " zone " + key.getZone()));
    }
    rotationFindings(key, findings);
    primaryRecord.ifPresent(v -> usageFinding(v, limit, findings));
    retiredVersions(key, primary, out, findings);
    findings.sort(
        Comparator.comparingInt((ComplianceFinding f) -> f.getKind().getNumber())
            .thenComparingInt(ComplianceFinding::getVersion));
    return out.addAllFindings(findings).build();
  }

  private void policyFindings(KeyRecord key, List<ComplianceFinding> findings) {
    RotationPolicyRecord policy = key.getPolicy();
    String template = policy.getTemplate();
    if (template.isEmpty()) {
      findings.add(
          policy.getRotationPeriodMillis() == 0
              ? finding(
                  FindingKind.FINDING_KIND_NO_POLICY,
                  0,
                  "no rotation period and no template: nothing rotates this key on time")
              : finding(
                  FindingKind.FINDING_KIND_NO_TEMPLATE,
                  0,
                  "rotation period "
                      + Durations.text(policy.getRotationPeriodMillis())
                      + " set by hand; the policy names no template"));
      return;
    }
    Optional<PolicyTemplates.Template> known = PolicyTemplates.template(template);
    if (known.isEmpty()) {
      findings.add(
          finding(
              FindingKind.FINDING_KIND_POLICY_DRIFT,
              0,
              "template " + template + " is not one this node knows"));
    } else {
      List<String> drift = PolicyTemplates.drift(known.get().policy(), policy);
      if (!drift.isEmpty()) {
        findings.add(finding(FindingKind.FINDING_KIND_POLICY_DRIFT, 0, String.join("; ", drift)));
      }
    }
    if (!templateZones.allows(policy, key.getZone())) {
      findings.add(
          finding(
              FindingKind.FINDING_KIND_ZONE_NOT_ALLOWED,
              0,
              "zone "
                  + key.getZone()
                  + " is not one template "
                  + template
                  + " allows ("
                  + String.join(",", templateZones.allowed(template).orElseThrow())
                  + ")"));
    }
  }

  private void rotationFindings(KeyRecord key, List<ComplianceFinding> findings) {
    long next = key.getNextRotationTimeUnixMillis();
    if (next != 0 && next <= nowMillis - RotationViews.LATE_AFTER.toMillis()) {
      findings.add(
          finding(
              FindingKind.FINDING_KIND_ROTATION_LATE,
              0,
              "due since " + Instant.ofEpochMilli(next)));
    }
    for (KeyVersionRecord v : key.getVersionsList()) {
      if (v.getStatus() == VersionStatus.VERSION_STATUS_CANCELLED
          && nowMillis - v.getCreateTimeUnixMillis() <= RotationViews.FAILED_WINDOW.toMillis()) {
        findings.add(
            finding(
                FindingKind.FINDING_KIND_ROTATION_FAILED,
                v.getVersion(),
                "version " + v.getVersion() + " cancelled: " + v.getStatusReason()));
      }
    }
  }

  private static void usageFinding(
      KeyVersionRecord primary, long limit, List<ComplianceFinding> findings) {
    long used = EncryptionLimits.counted(primary);
    if (limit > 0 && used >= (long) (limit * LIMIT_WARNING_SHARE)) {
      findings.add(
          finding(
              FindingKind.FINDING_KIND_ENCRYPTION_LIMIT_NEAR,
              primary.getVersion(),
              "version "
                  + primary.getVersion()
                  + " counted "
                  + used
                  + " of its "
                  + limit
                  + " encryptions"));
    }
  }

  /**
   * Superseded versions still in use (they decrypt, or data keys sealed under them are
   * outstanding), and a finding for each that does so longer after its retirement than the key's
   * decrypt grace (or, without one, the report's threshold).
   */
  private void retiredVersions(
      KeyRecord key, int primary, KeyCompliance.Builder out, List<ComplianceFinding> findings) {
    long grace = key.getPolicy().getDecryptGraceMillis();
    long allowed = grace > 0 ? grace : retiredDecryptAfterMillis;
    String allowedText =
        " (allowed: " + Durations.text(allowed) + (grace > 0 ? ", the decrypt grace" : "") + ")";
    for (KeyVersionRecord v : key.getVersionsList()) {
      if (v.getVersion() == primary) {
        continue;
      }
      KeyVersionState state = KeyVersions.stateAt(key, v, nowMillis);
      long outstanding = Math.max(0, v.getDataKeysIssued() - v.getDataKeysRewrappedAway());
      boolean decrypts =
          state == KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY
              && KeyVersions.canDecrypt(key, v, nowMillis);
      if (!decrypts && !(state == KeyVersionState.KEY_VERSION_STATE_DISABLED && outstanding > 0)) {
        continue;
      }
      long retired = retiredTime(key, v);
      RetiredVersion.Builder entry =
          RetiredVersion.newBuilder()
              .setVersion(v.getVersion())
              .setEncryptions(EncryptionLimits.counted(v))
              .setState(state)
              .setDataKeysIssued(v.getDataKeysIssued())
              .setDataKeysRewrappedAway(v.getDataKeysRewrappedAway())
              .setDataKeysOutstanding(outstanding);
      if (retired > 0) {
        entry
            .setRetiredTime(KeyViews.timestamp(retired))
            .setRetiredFor(KeyViews.duration(Math.max(0, nowMillis - retired)));
      }
      out.addRetiredVersions(entry);
      if (retired <= 0 || nowMillis - retired <= allowed) {
        continue;
      }
      String since = "version " + v.getVersion() + " retired at " + Instant.ofEpochMilli(retired);
      if (decrypts) {
        findings.add(
            finding(
                FindingKind.FINDING_KIND_RETIRED_VERSION_DECRYPTS,
                v.getVersion(),
                since + " still decrypts" + allowedText));
      }
      if (outstanding > 0) {
        findings.add(
            finding(
                FindingKind.FINDING_KIND_DATA_KEYS_OUTSTANDING,
                v.getVersion(),
                since
                    + " ("
                    + Durations.roundedDown(nowMillis - retired)
                    + " ago) still has "
                    + outstanding
                    + " data keys outstanding: "
                    + v.getDataKeysIssued()
                    + " issued, "
                    + v.getDataKeysRewrappedAway()
                    + " rewrapped away"
                    + allowedText));
      }
    }
  }

  /**
   * When {@code version} stopped being primary: its demotion, or the activation of the first later
   * version that activated; 0 when neither happened by the evaluation time.
   */
  private long retiredTime(KeyRecord key, KeyVersionRecord version) {
    long demoted = version.getDemotedTimeUnixMillis();
    if (demoted != 0 && demoted <= nowMillis) {
      return demoted;
    }
    long earliest = 0;
    for (KeyVersionRecord later : key.getVersionsList()) {
      long activation = later.getActivationTimeUnixMillis();
      if (later.getVersion() > version.getVersion()
          && later.getStatus() != VersionStatus.VERSION_STATUS_CANCELLED
          && KeyVersions.isEligible(later)
          && activation <= nowMillis
          && (earliest == 0 || activation < earliest)) {
        earliest = activation;
      }
    }
    return earliest;
  }

  private static String owner(KeyRecord key) {
    for (Label label : key.getLabelsList()) {
      if (label.getKey().equals(OWNER_LABEL)) {
        return label.getValue();
      }
    }
    return "";
  }

  private static ComplianceFinding finding(FindingKind kind, int version, String detail) {
    return ComplianceFinding.newBuilder()
        .setKind(kind)
        .setVersion(version)
        .setDetail(detail)
        .build();
  }
}
