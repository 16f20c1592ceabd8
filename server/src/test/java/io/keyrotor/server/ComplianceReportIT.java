package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.encryption;
import static io.keyrotor.server.ProtoTimes.durationOfMillis;
import static io.keyrotor.server.ProtoTimes.millis;
import static io.keyrotor.server.ProtoTimes.timestamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.CancelRotationRequest;
import io.keyrotor.api.v1.ComplianceFinding;
import io.keyrotor.api.v1.ComplianceReportChunk;
import io.keyrotor.api.v1.ComplianceReportHeader;
import io.keyrotor.api.v1.ComplianceReportSummary;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.FindingCount;
import io.keyrotor.api.v1.FindingKind;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.HsmStatus;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyCompliance;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.NodeResidency;
import io.keyrotor.api.v1.RetiredVersion;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.StreamComplianceReportRequest;
import io.keyrotor.api.v1.TemplateCount;
import io.keyrotor.api.v1.ZoneResidency;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.server.api.PolicyTemplates;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Policy templates and the compliance report on a real 3-node cluster (mutual TLS, Ratis, RocksDB,
 * software HSMs): a scripted history of keys with and without templates, rotations, a cancelled
 * rotation, refusals by the templates' rules (which take no log entry), then the whole report,
 * evaluated two hours ahead so that an hourly key is late, compared with a report built here from
 * the keys as GetKey shows them and the nodes as GetNodeStatus shows them.
 *
 * <p>n1 and n3 are in region eu, n2 in us; every node holds zone default and its region's zone (the
 * leader has a holder of a key's zone mint its material). pci-dss and hipaa keys may live in zone
 * default only.
 */
@Tag("integration")
class ComplianceReportIT extends ClusterTestBase {
  private static final long HOUR = 3_600_000L;

  ComplianceReportIT() {
    super(
        List.of("eu", "us"),
        Map.of(
            "compliance.template.pci-dss.zones", "default",
            "compliance.template.hipaa.zones", "default",
            "rotation.minimum-period", "1m"));
  }

  @Test
  void scriptedHistory_givesExactlyTheExpectedReport() {
    String n1 = "n1";
    cluster.leaderId();
    // n1 holds zones default and eu and forwards its proposals to the leader; n2 holds us.
    var keys = cluster.keys(n1);

    // No policy at all, then rotated at once: version 1 retired, still decrypting.
    onNode(n1, k -> k.createKey(create("bare", "default", "alice").build()));
    onNode(n1, k -> k.rotateKey(rotateNow("bare")));
    // A period set by hand (hourly), no template: late two hours ahead.
    onNode(
        n1,
        k ->
            k.createKey(
                create("hourly", "default", "bob")
                    .setRotationPolicy(RotationPolicy.newBuilder().setRotationPeriod(hours(1)))
                    .build()));
    // A PCI key, rotated at once (its version 1 is within the template's grace), used once.
    onNode(
        n1,
        k -> k.createKey(create("cards", "default", "payments").setTemplate("pci-dss").build()));
    onNode(n1, k -> k.rotateKey(rotateNow("cards")));
    onNode(cluster.leaderId(), k -> k.encrypt(encryption("cards", "4111")));
    // A HIPAA key whose period was lengthened past its template's: drift.
    onNode(
        n1,
        k ->
            k.createKey(
                create("charts", "default", "records")
                    .setTemplate("hipaa")
                    .setRotationPolicy(RotationPolicy.newBuilder().setRotationPeriod(days(400)))
                    .build()));
    // A NIST key whose gated rotation was cancelled: a failed rotation.
    onNode(
        n1,
        k ->
            k.createKey(
                create("ledger", "eu", "finance").setTemplate("nist-800-57-moderate").build()));
    onNode(
        n1,
        k ->
            k.rotateKey(
                RotateKeyRequest.newBuilder()
                    .setName("ledger")
                    .setActivationDelay(hours(1))
                    .build()));
    onNode(
        n1,
        k ->
            k.cancelRotation(
                CancelRotationRequest.newBuilder()
                    .setName("ledger")
                    .setVersion(2)
                    .setReason("failed canary")
                    .build()));
    // A high-sensitivity key without a label: compliant, no owner.
    onNode(
        "n2",
        k ->
            k.createKey(
                CreateKeyRequest.newBuilder()
                    .setName("vault")
                    .setZone("us")
                    .setTemplate("high-sensitivity")
                    .build()));
    // A key in zone eu without a policy.
    onNode(n1, k -> k.createKey(create("euro", "eu", "erin").build()));

    cluster.awaitConvergence();
    long before = appliedIndex(n1);
    // Refused by the templates' rules, each before anything is proposed.
    expect(
        Status.Code.INVALID_ARGUMENT,
        "TEMPLATE_ZONE_NOT_ALLOWED",
        () ->
            keys.createKey(
                create("cards-eu", "eu", "payments")
                    .setTemplate("pci-dss")
                    .setRequestId("refused-create-eu")
                    .build()));
    expect(
        Status.Code.FAILED_PRECONDITION,
        "TEMPLATE_ZONE_NOT_ALLOWED",
        () ->
            keys.setRotationPolicy(
                SetRotationPolicyRequest.newBuilder()
                    .setName("euro")
                    .setTemplate("hipaa")
                    .setRequestId("refused-policy-eu")
                    .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "TEMPLATE_REQUIREMENT_NOT_MET",
        () ->
            keys.createKey(
                create("cards-ungated", "default", "payments")
                    .setTemplate("pci-dss")
                    .setRotationPolicy(
                        RotationPolicy.newBuilder()
                            .setActivationDelay(Duration.getDefaultInstance()))
                    .setRequestId("refused-ungated")
                    .build()));
    expect(
        Status.Code.FAILED_PRECONDITION,
        "TEMPLATE_REQUIREMENT_NOT_MET",
        () ->
            keys.scheduleKeyVersionDestroy(
                ScheduleKeyVersionDestroyRequest.newBuilder()
                    .setName("cards")
                    .setVersion(1)
                    .setWaitingPeriod(days(1))
                    .setRequestId("refused-destroy")
                    .build()));
    assertNoLogEntryFor(
        n1,
        before,
        List.of("refused-create-eu", "refused-policy-eu", "refused-ungated", "refused-destroy"));

    // The template set every value of the PCI key's policy.
    assertEquals(
        RotationPolicy.newBuilder()
            .setRotationPeriod(days(365))
            .setMaxEncryptions(1L << 31)
            .setActivationDelay(hours(1))
            .setDecryptGrace(days(365))
            .setTemplate("pci-dss")
            .setDestroyWaitingPeriod(days(30))
            .setRequireValidation(true)
            .build(),
        key("cards").getRotationPolicy());

    cluster.awaitConvergence();
    long reportFrom = appliedIndex(n1);
    long asOf = System.currentTimeMillis() + 2 * HOUR;
    List<ComplianceReportChunk> chunks =
        report(
            n1,
            StreamComplianceReportRequest.newBuilder()
                .setAsOfTime(timestamp(asOf))
                .setRetiredDecryptAfter(hours(1))
                .setKeysPerChunk(3)
                .build());

    // Header first, keys in chunks of at most 3, summary last.
    assertTrue(chunks.get(0).hasHeader());
    assertTrue(chunks.get(chunks.size() - 1).hasSummary());
    assertEquals(
        List.of(3, 3, 1),
        chunks.subList(1, chunks.size() - 1).stream()
            .map(c -> c.getKeys().getKeysCount())
            .toList());
    ComplianceReportHeader header = chunks.get(0).getHeader();
    assertTrue(header.getAppliedIndex() >= reportFrom, header.toString());
    assertFalse(header.getStateDigest().isEmpty());

    assertEquals(expectedHeader(header, asOf), header);
    List<KeyCompliance> entries = new ArrayList<>();
    chunks.stream()
        .filter(ComplianceReportChunk::hasKeys)
        .forEach(c -> entries.addAll(c.getKeys().getKeysList()));
    assertEquals(expectedKeys(asOf), entries);
    assertEquals(expectedSummary(), chunks.get(chunks.size() - 1).getSummary());

    // The template filter keeps the report to that template's keys.
    List<ComplianceReportChunk> pci =
        report(
            n1,
            StreamComplianceReportRequest.newBuilder()
                .setTemplate("pci-dss")
                .setAsOfTime(timestamp(asOf))
                .build());
    assertEquals(
        List.of("cards"),
        pci.stream()
            .filter(ComplianceReportChunk::hasKeys)
            .flatMap(c -> c.getKeys().getKeysList().stream())
            .map(KeyCompliance::getName)
            .toList());
    assertEquals("pci-dss", pci.get(0).getHeader().getTemplateFilter());
  }

  @Test
  void report_needsReadAudit_andRefusesBadRequests() {
    expect(
        Status.Code.PERMISSION_DENIED,
        "PERMISSION_DENIED",
        () ->
            cluster
                .complianceAs("n2", "service")
                .streamComplianceReport(StreamComplianceReportRequest.getDefaultInstance())
                .hasNext());
    expect(
        Status.Code.INVALID_ARGUMENT,
        "UNKNOWN_TEMPLATE",
        () -> report("n2", StreamComplianceReportRequest.newBuilder().setTemplate("sox").build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_PAGE_SIZE",
        () ->
            report("n2", StreamComplianceReportRequest.newBuilder().setKeysPerChunk(1001).build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_TIME",
        () ->
            report(
                "n2",
                StreamComplianceReportRequest.newBuilder()
                    .setAsOfTime(timestamp(System.currentTimeMillis() - 24 * HOUR))
                    .build()));
  }

  // ------------------------------------------------------------------- the expected report

  private ComplianceReportHeader expectedHeader(ComplianceReportHeader actual, long asOf) {
    ComplianceReportHeader.Builder out =
        actual.toBuilder()
            .setNodeId("n1")
            .setTemplateFilter("")
            .setEvaluatedTime(timestamp(asOf))
            .setRetiredDecryptAfter(hours(1))
            .clearNodes()
            .clearZones();
    for (String id : List.of("n1", "n2", "n3")) {
      HsmStatus hsm =
          cluster.admin(id).getNodeStatus(GetNodeStatusRequest.getDefaultInstance()).getHsm();
      out.addNodes(
          NodeResidency.newBuilder()
              .setNodeId(id)
              .setRegion(id.equals("n2") ? "us" : "eu")
              .addAllZones(cluster.layout().zonesOf(id))
              .setHsmKind("software")
              .setHsmModule(hsm.getModule())
              .setHsmTokenLabel(hsm.getTokenLabel())
              .addAllHsmMechanisms(hsm.getMechanismsList())
              .setHsmDescription(cluster.nodes.get(id).config().hsm().describe())
              .setRegisteredTime(
                  actual.getNodesList().stream()
                      .filter(n -> n.getNodeId().equals(id))
                      .findFirst()
                      .orElseThrow()
                      .getRegisteredTime()));
    }
    out.addZones(zone("default", 4, "n1", "n2", "n3"))
        .addZones(zone("eu", 2, "n1", "n3"))
        .addZones(zone("us", 1, "n2"));
    // Every template of the table, with the zones this cluster allows.
    assertEquals(
        List.copyOf(PolicyTemplates.all().keySet()),
        actual.getTemplatesList().stream().map(t -> t.getName()).toList());
    Map<String, List<String>> zones =
        actual.getTemplatesList().stream()
            .collect(Collectors.toMap(t -> t.getName(), t -> t.getAllowedZonesList()));
    assertEquals(List.of("default"), zones.get("pci-dss"));
    assertEquals(List.of("default"), zones.get("hipaa"));
    assertEquals(List.of(), zones.get("high-sensitivity"));
    // The chain verifies at the report's index; the script destroys no version.
    assertEquals("verified", actual.getAuditChain().getState(), actual.getAuditChain().getDetail());
    assertEquals("none", actual.getDestructionReceipts().getState());
    return out.build();
  }

  private static ZoneResidency zone(String zone, long keys, String... nodes) {
    return ZoneResidency.newBuilder()
        .setZone(zone)
        .addAllNodeIds(List.of(nodes))
        .setKeys(keys)
        .build();
  }

  private List<KeyCompliance> expectedKeys(long asOf) {
    Key bare = key("bare");
    Key cards = key("cards");
    Key charts = key("charts");
    Key euro = key("euro");
    Key hourly = key("hourly");
    Key ledger = key("ledger");
    Key vault = key("vault");
    List<String> everyNode = List.of("n1", "n2", "n3");
    List<String> euNodes = List.of("n1", "n3");
    return List.of(
        entry(bare, asOf, everyNode)
            .addRetiredVersions(retired(bare, 1, asOf))
            .addFindings(
                finding(
                    FindingKind.FINDING_KIND_NO_POLICY,
                    0,
                    "no rotation period and no template: nothing rotates this key on time"))
            .addFindings(
                finding(
                    FindingKind.FINDING_KIND_RETIRED_VERSION_DECRYPTS,
                    1,
                    "version 1 retired at "
                        + instant(version(bare, 2).getActivationTime())
                        + " still decrypts (allowed: 1h)"))
            .build(),
        entry(cards, asOf, everyNode).addRetiredVersions(retired(cards, 1, asOf)).build(),
        entry(charts, asOf, everyNode)
            .addFindings(
                finding(
                    FindingKind.FINDING_KIND_POLICY_DRIFT,
                    0,
                    "rotation_period 400d is longer than the template's 365d"))
            .build(),
        entry(euro, asOf, euNodes)
            .addFindings(
                finding(
                    FindingKind.FINDING_KIND_NO_POLICY,
                    0,
                    "no rotation period and no template: nothing rotates this key on time"))
            .build(),
        entry(hourly, asOf, everyNode)
            .addFindings(
                finding(
                    FindingKind.FINDING_KIND_NO_TEMPLATE,
                    0,
                    "rotation period 1h set by hand; the policy names no template"))
            .addFindings(
                finding(
                    FindingKind.FINDING_KIND_ROTATION_LATE,
                    0,
                    "due since " + instant(hourly.getNextRotationTime())))
            .build(),
        entry(ledger, asOf, euNodes)
            .addFindings(
                finding(
                    FindingKind.FINDING_KIND_ROTATION_FAILED,
                    2,
                    "version 2 cancelled: " + version(ledger, 2).getStatusReason()))
            .build(),
        entry(vault, asOf, List.of("n2")).build());
  }

  private static ComplianceReportSummary expectedSummary() {
    return ComplianceReportSummary.newBuilder()
        .setKeys(7)
        .setExceptions(5)
        .addFindings(count(FindingKind.FINDING_KIND_NO_POLICY, 2))
        .addFindings(count(FindingKind.FINDING_KIND_NO_TEMPLATE, 1))
        .addFindings(count(FindingKind.FINDING_KIND_POLICY_DRIFT, 1))
        .addFindings(count(FindingKind.FINDING_KIND_ROTATION_LATE, 1))
        .addFindings(count(FindingKind.FINDING_KIND_ROTATION_FAILED, 1))
        .addFindings(count(FindingKind.FINDING_KIND_RETIRED_VERSION_DECRYPTS, 1))
        .addTemplates(templateCount("", 3))
        .addTemplates(templateCount("high-sensitivity", 1))
        .addTemplates(templateCount("hipaa", 1))
        .addTemplates(templateCount("nist-800-57-moderate", 1))
        .addTemplates(templateCount("pci-dss", 1))
        .build();
  }

  /**
   * A key's entry as GetKey shows the key: policy, primary version and its activation, usage, next
   * rotation; findings and retired versions added by the caller.
   */
  private static KeyCompliance.Builder entry(Key key, long asOf, List<String> zoneNodes) {
    KeyVersion primary = version(key, key.getPrimaryVersion());
    long activated = millis(primary.getActivationTime());
    KeyCompliance.Builder out =
        KeyCompliance.newBuilder()
            .setName(key.getName())
            .setZone(key.getZone())
            .setOwner(key.getLabelsOrDefault("owner", ""))
            .setTemplate(key.getRotationPolicy().getTemplate())
            .setPolicy(key.getRotationPolicy())
            .setPrimaryVersion(key.getPrimaryVersion())
            .setLastRotationTime(primary.getActivationTime())
            .setPrimaryAge(durationOfMillis(asOf - activated))
            .setPrimaryEncryptions(primary.getEncryptions())
            .setPrimaryEncryptionLimit(primary.getEncryptionLimit())
            .addAllZoneNodes(zoneNodes);
    if (key.hasNextRotationTime()) {
      out.setNextRotationTime(key.getNextRotationTime());
    }
    return out;
  }

  private static RetiredVersion retired(Key key, int version, long asOf) {
    Timestamp retiredTime = version(key, version + 1).getActivationTime();
    return RetiredVersion.newBuilder()
        .setVersion(version)
        .setRetiredTime(retiredTime)
        .setEncryptions(version(key, version).getEncryptions())
        .setState(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY)
        .setRetiredFor(durationOfMillis(asOf - millis(retiredTime)))
        .build();
  }

  private static ComplianceFinding finding(FindingKind kind, int version, String detail) {
    return ComplianceFinding.newBuilder()
        .setKind(kind)
        .setVersion(version)
        .setDetail(detail)
        .build();
  }

  private static FindingCount count(FindingKind kind, long keys) {
    return FindingCount.newBuilder().setKind(kind).setKeys(keys).build();
  }

  private static TemplateCount templateCount(String template, long keys) {
    return TemplateCount.newBuilder().setTemplate(template).setKeys(keys).build();
  }

  // ------------------------------------------------------------------- helpers

  private List<ComplianceReportChunk> report(String node, StreamComplianceReportRequest request) {
    List<ComplianceReportChunk> chunks = new ArrayList<>();
    cluster.compliance(node).streamComplianceReport(request).forEachRemaining(chunks::add);
    return chunks;
  }

  /**
   * {@code call} on node {@code id}, asked again while the cluster answers UNAVAILABLE (a leader
   * change while the cluster settles: nothing was proposed), within a bounded number of attempts.
   */
  private <T> T onNode(
      String id, java.util.function.Function<KeyServiceGrpc.KeyServiceBlockingStub, T> call) {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.apply(cluster.keys(id));
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || attempt >= 100) {
          throw e;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(200_000_000L);
      }
    }
  }

  private Key key(String name) {
    return cluster.keys("n1").getKey(GetKeyRequest.newBuilder().setName(name).build());
  }

  private static KeyVersion version(Key key, int version) {
    return key.getVersions(version - 1);
  }

  private static CreateKeyRequest.Builder create(String name, String zone, String owner) {
    return CreateKeyRequest.newBuilder().setName(name).setZone(zone).putLabels("owner", owner);
  }

  private static RotateKeyRequest rotateNow(String name) {
    return RotateKeyRequest.newBuilder()
        .setName(name)
        .setActivationDelay(Duration.getDefaultInstance())
        .build();
  }

  private long appliedIndex(String node) {
    return cluster
        .admin(node)
        .getNodeStatus(GetNodeStatusRequest.getDefaultInstance())
        .getAppliedIndex();
  }

  /** No audit record after {@code before} carries a refused request's id. */
  private void assertNoLogEntryFor(String node, long before, List<String> refusedIds) {
    cluster.awaitConvergence();
    List<AuditRecord> since = cluster.nodes.get(node).raft().state().audit(before + 1, 10_000);
    for (AuditRecord record : since) {
      assertFalse(refusedIds.contains(record.getRequestId()), "refused request logged: " + record);
    }
  }

  private static void expect(Status.Code code, String reason, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getMessage());
    assertEquals(reason, GrpcErrors.reason(e), e.getMessage());
  }

  private static Duration hours(long hours) {
    return Duration.newBuilder().setSeconds(hours * 3600).build();
  }

  private static Duration days(long days) {
    return Duration.newBuilder().setSeconds(days * 86_400).build();
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }
}
