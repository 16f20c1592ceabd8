package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.ComplianceEvidence;
import io.keyrotor.api.v1.ComplianceFinding;
import io.keyrotor.api.v1.ComplianceKeyChunk;
import io.keyrotor.api.v1.ComplianceReportChunk;
import io.keyrotor.api.v1.ComplianceReportHeader;
import io.keyrotor.api.v1.ComplianceReportSummary;
import io.keyrotor.api.v1.ComplianceServiceGrpc;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.DestructionReceiptSignature;
import io.keyrotor.api.v1.FindingCount;
import io.keyrotor.api.v1.FindingKind;
import io.keyrotor.api.v1.KeyCompliance;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.NodeResidency;
import io.keyrotor.api.v1.PolicyTemplate;
import io.keyrotor.api.v1.RetiredVersion;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.StreamComplianceReportRequest;
import io.keyrotor.api.v1.TemplateCount;
import io.keyrotor.api.v1.ZoneResidency;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keyrotor compliance report}: the request it sends, its stable JSON, and its HTML page as
 * headless Chromium renders it (Debian package {@code chromium}, which scripts/test installs; the
 * rendering test is skipped without it, and fails under CI=true).
 */
class ComplianceCommandTest {
  @TempDir Path workingDirectory;

  private final ScriptedCompliance compliance = new ScriptedCompliance();
  private FakeNode node;

  @BeforeEach
  void start() {
    node = FakeNode.start(new FakeKeyService(), new FakeAdminService(), compliance);
  }

  @AfterEach
  void stop() {
    node.close();
  }

  @Test
  void json_isTheWholeReportInAStableForm() {
    CliRun first = run("compliance", "report", "--json");
    assertEquals(0, first.status(), first.stderr());
    CliRun second = run("compliance", "report", "--json");
    assertEquals(first.stdout(), second.stdout(), "the same report prints the same bytes");
    assertEquals(EXPECTED_JSON + "\n", first.stdout());
    assertEquals(StreamComplianceReportRequest.getDefaultInstance(), compliance.requests.get(0));
  }

  @Test
  void options_becomeTheRequest() {
    CliRun run =
        run(
            "compliance",
            "report",
            "--template",
            "pci-dss",
            "--as-of",
            "2027-03-01T00:00:00Z",
            "--retired-decrypt-after",
            "90d");
    assertEquals(0, run.status(), run.stderr());
    assertEquals(
        StreamComplianceReportRequest.newBuilder()
            .setTemplate("pci-dss")
            .setAsOfTime(Timestamp.newBuilder().setSeconds(1_803_859_200L))
            .setRetiredDecryptAfter(Duration.newBuilder().setSeconds(90 * 86_400L))
            .build(),
        compliance.requests.get(0));
    assertTrue(run.stdout().startsWith("Compliance report of node n1 at applied index 42"));
    assertTrue(run.stdout().contains("3 keys, 2 with exceptions\n\nEXCEPTIONS\ncharts "));
    assertTrue(
        run.stdout()
            .contains(
                String.format(
                    "%n%-24s %-12s %-26s %s%n",
                    "hourly", "bob", "ROTATION_LATE", "due since 2026-12-07T09:00:00Z")),
        run.stdout());
  }

  @Test
  void jsonAndHtml_excludeEachOther() {
    CliRun run = run("compliance", "report", "--json", "--html", "r.html");
    assertEquals(2, run.status());
    assertTrue(run.stderr().contains("--json and --html FILE exclude each other"), run.stderr());
  }

  @Test
  void html_rendersInChromium_summaryAndExceptionsFirst() throws Exception {
    CliRun run = run("compliance", "report", "--html", "report.html");
    assertEquals(0, run.status(), run.stderr());
    assertEquals("wrote report.html: 3 keys, 2 with exceptions\n", run.stdout());
    Path page = workingDirectory.resolve("report.html");
    String html = Files.readString(page);
    // Self-contained: nothing is fetched from anywhere.
    assertFalse(
        Pattern.compile("(?i)<(link|script|img|iframe)\\b|src=|url\\(").matcher(html).find());
    // Server text is escaped.
    assertTrue(html.contains("&lt;b&gt;"), "an owner label with markup is shown as text");

    String dom = renderedDom(page);
    // The summary comes before the exceptions, which come before the keys.
    int summary = dom.indexOf("id=\"summary\"");
    int exceptions = dom.indexOf("id=\"exceptions\"");
    int keys = dom.indexOf("id=\"keys\"");
    assertTrue(summary >= 0 && summary < exceptions && exceptions < keys, dom);
    assertEquals("3", cardValue(dom, "count-keys"));
    assertEquals("2", cardValue(dom, "count-exceptions"));
    assertEquals("1", cardValue(dom, "count-ROTATION_LATE"));
    assertEquals("1", cardValue(dom, "count-POLICY_DRIFT"));
    assertEquals(
        List.of(
            List.of(
                "charts",
                "&lt;b&gt;records",
                "default",
                "hipaa",
                "POLICY_DRIFT",
                "",
                "rotation_period 400d is longer than the template's 365d"),
            List.of(
                "hourly",
                "bob",
                "default",
                "none",
                "ROTATION_LATE",
                "",
                "due since 2026-12-07T09:00:00Z")),
        rows(section(dom, "exceptions")));
    List<List<String>> keyRows = rows(section(dom, "keys"));
    assertEquals(
        List.of("cards", "charts", "hourly"), keyRows.stream().map(r -> r.get(0)).toList());
    assertEquals("complies", keyRows.get(0).get(11));
    assertEquals("v2", keyRows.get(0).get(10).trim());
    // The retired versions still in use, with their data keys, after the keys.
    int retiredVersions = dom.indexOf("id=\"retired-versions\"");
    int receipts = dom.indexOf("id=\"destruction-receipts\"");
    assertTrue(keys < retiredVersions && retiredVersions < receipts, dom);
    assertEquals(
        List.of(
            List.of(
                "cards",
                "payments",
                "v2",
                "DECRYPT_ONLY",
                "2026-12-07T08:00:00Z",
                "2h",
                "10",
                "4",
                "6",
                "within grace")),
        rows(section(dom, "retired-versions")));
    // The destruction receipts, readable: who scheduled it, where it is in the log, who signed.
    assertEquals(
        List.of(
            List.of(
                "cards",
                "v1",
                "default",
                "2026-12-01T00:00:00Z",
                "2026-12-01T00:00:00Z",
                "alice",
                "17",
                "9f86d0",
                "signed by n1 (audit key v1) at index 18")),
        rows(section(dom, "destruction-receipts")));
    assertTrue(dom.contains("id=\"receipts-state\">not-reported</span>"), dom);
    assertEquals(List.of(List.of("default", "n1", "3")), rows(section(dom, "zones")));
    assertEquals(
        List.of(
            "n1",
            "eu",
            "default",
            "software",
            "/var/lib/keyrotor/zmk.p12",
            "none",
            "AES_KEY_WRAP_PAD, AES_GCM"),
        rows(section(dom, "nodes")).get(0));
  }

  // ------------------------------------------------------------------- the scripted report

  private static final String EXPECTED_JSON =
      "{\"applied_index\":42,\"applied_term\":3,\"state_digest\":\"ab12\","
          + "\"evaluated_time\":\"2026-12-07T10:00:00Z\",\"node_id\":\"n1\","
          + "\"template_filter\":null,\"retired_decrypt_after\":\"365d\","
          + "\"summary\":{\"keys\":3,\"exceptions\":2,"
          + "\"findings\":{\"POLICY_DRIFT\":1,\"ROTATION_LATE\":1},"
          + "\"templates\":[{\"template\":null,\"keys\":1},{\"template\":\"hipaa\",\"keys\":1},"
          + "{\"template\":\"pci-dss\",\"keys\":1}]},"
          + "\"exceptions\":[{\"key\":\"charts\",\"owner\":\"<b>records\",\"zone\":\"default\","
          + "\"template\":\"hipaa\",\"finding\":\"POLICY_DRIFT\",\"version\":0,"
          + "\"detail\":\"rotation_period 400d is longer than the template's 365d\"},"
          + "{\"key\":\"hourly\",\"owner\":\"bob\",\"zone\":\"default\",\"template\":null,"
          + "\"finding\":\"ROTATION_LATE\",\"version\":0,"
          + "\"detail\":\"due since 2026-12-07T09:00:00Z\"}],"
          + "\"keys\":["
          + "{\"name\":\"cards\",\"zone\":\"default\",\"owner\":\"payments\","
          + "\"template\":\"pci-dss\",\"policy\":{\"rotation_period\":\"365d\","
          + "\"max_encryptions\":2147483648,\"activation_delay\":\"1h\",\"decrypt_grace\":\"365d\","
          + "\"next_rotation_time\":null,\"template\":\"pci-dss\","
          + "\"destroy_waiting_period\":\"30d\",\"require_validation\":true},"
          + "\"primary_version\":3,\"last_rotation_time\":\"2026-12-07T08:00:00Z\","
          + "\"primary_age\":\"2h\",\"next_rotation_time\":\"2027-12-07T08:00:00Z\","
          + "\"primary_encryptions\":1000,\"primary_encryption_limit\":2147483648,"
          + "\"retired_versions\":[{\"version\":2,\"retired_time\":\"2026-12-07T08:00:00Z\","
          + "\"encryptions\":0,\"state\":\"DECRYPT_ONLY\",\"retired_for\":\"2h\","
          + "\"data_keys_issued\":10,\"data_keys_rewrapped_away\":4,\"data_keys_outstanding\":6}],"
          + "\"findings\":[],\"zone_nodes\":[\"n1\"],\"destruction_receipts\":["
          + "{\"key\":\"cards\",\"version\":1,\"zone\":\"default\","
          + "\"destroyed_time\":\"2026-12-01T00:00:00Z\","
          + "\"scheduled_destroy_time\":\"2026-12-01T00:00:00Z\",\"scheduled_by\":\"alice\","
          + "\"log_index\":17,\"audit_record_hash\":\"9f86d0\",\"signature\":{"
          + "\"signer_node\":\"n1\",\"key_version\":1,\"signature\":\"AQID\","
          + "\"recorded_index\":18}}]},"
          + "{\"name\":\"charts\",\"zone\":\"default\",\"owner\":\"<b>records\","
          + "\"template\":\"hipaa\",\"policy\":{\"rotation_period\":\"400d\","
          + "\"max_encryptions\":0,\"activation_delay\":null,\"decrypt_grace\":null,"
          + "\"next_rotation_time\":null,\"template\":\"hipaa\",\"destroy_waiting_period\":null,"
          + "\"require_validation\":false},"
          + "\"primary_version\":1,\"last_rotation_time\":null,\"primary_age\":null,"
          + "\"next_rotation_time\":null,\"primary_encryptions\":0,"
          + "\"primary_encryption_limit\":2147483648,\"retired_versions\":[],"
          + "\"findings\":[{\"finding\":\"POLICY_DRIFT\",\"version\":0,"
          + "\"detail\":\"rotation_period 400d is longer than the template's 365d\"}],"
          + "\"zone_nodes\":[\"n1\"],\"destruction_receipts\":[]},"
          + "{\"name\":\"hourly\",\"zone\":\"default\",\"owner\":\"bob\",\"template\":null,"
          + "\"policy\":{\"rotation_period\":\"1h\",\"max_encryptions\":0,"
          + "\"activation_delay\":null,\"decrypt_grace\":null,\"next_rotation_time\":null,"
          + "\"template\":null,\"destroy_waiting_period\":null,\"require_validation\":false},"
          + "\"primary_version\":1,\"last_rotation_time\":null,\"primary_age\":null,"
          + "\"next_rotation_time\":null,\"primary_encryptions\":0,"
          + "\"primary_encryption_limit\":2147483648,\"retired_versions\":[],"
          + "\"findings\":[{\"finding\":\"ROTATION_LATE\",\"version\":0,"
          + "\"detail\":\"due since 2026-12-07T09:00:00Z\"}],\"zone_nodes\":[\"n1\"],\"destruction_receipts\":[]}],"
          + "\"nodes\":[{\"id\":\"n1\",\"region\":\"eu\",\"zones\":[\"default\"],"
          + "\"hsm\":{\"kind\":\"software\",\"module\":\"/var/lib/keyrotor/zmk.p12\","
          + "\"token_label\":null,\"mechanisms\":[\"AES_KEY_WRAP_PAD\",\"AES_GCM\"],"
          + "\"description\":\"software key file /var/lib/keyrotor/zmk.p12\"},"
          + "\"registered_time\":\"2026-12-07T07:00:00Z\"}],"
          + "\"zones\":[{\"zone\":\"default\",\"nodes\":[\"n1\"],\"keys\":3}],"
          + "\"templates\":[{\"name\":\"pci-dss\",\"policy\":{\"rotation_period\":\"365d\","
          + "\"max_encryptions\":2147483648,\"activation_delay\":\"1h\","
          + "\"decrypt_grace\":\"365d\",\"next_rotation_time\":null,\"template\":\"pci-dss\","
          + "\"destroy_waiting_period\":\"30d\",\"require_validation\":true},"
          + "\"allowed_zones\":[\"default\"],\"source\":\"PCI DSS v4.0 req. 3.6.1\"}],"
          + "\"audit_chain\":{\"state\":\"not-reported\",\"detail\":\"not yet\"},"
          + "\"destruction_receipts\":{\"state\":\"not-reported\",\"detail\":\"not yet\"}}";

  /** A ComplianceService that answers every request with the same scripted report. */
  private static final class ScriptedCompliance
      extends ComplianceServiceGrpc.ComplianceServiceImplBase {
    final List<StreamComplianceReportRequest> requests = new ArrayList<>();

    @Override
    public void streamComplianceReport(
        StreamComplianceReportRequest request, StreamObserver<ComplianceReportChunk> response) {
      synchronized (this) {
        requests.add(request);
      }
      RotationPolicy pci =
          RotationPolicy.newBuilder()
              .setRotationPeriod(days(365))
              .setMaxEncryptions(1L << 31)
              .setActivationDelay(Duration.newBuilder().setSeconds(3600))
              .setDecryptGrace(days(365))
              .setTemplate("pci-dss")
              .setDestroyWaitingPeriod(days(30))
              .setRequireValidation(true)
              .build();
      ComplianceEvidence notYet =
          ComplianceEvidence.newBuilder().setState("not-reported").setDetail("not yet").build();
      response.onNext(
          ComplianceReportChunk.newBuilder()
              .setHeader(
                  ComplianceReportHeader.newBuilder()
                      .setAppliedIndex(42)
                      .setAppliedTerm(3)
                      .setStateDigest("ab12")
                      .setEvaluatedTime(time("2026-12-07T10:00:00Z"))
                      .setNodeId("n1")
                      .setRetiredDecryptAfter(days(365))
                      .addTemplates(
                          PolicyTemplate.newBuilder()
                              .setName("pci-dss")
                              .setPolicy(pci)
                              .addAllowedZones("default")
                              .setSource("PCI DSS v4.0 req. 3.6.1"))
                      .addNodes(
                          NodeResidency.newBuilder()
                              .setNodeId("n1")
                              .setRegion("eu")
                              .addZones("default")
                              .setHsmKind("software")
                              .setHsmModule("/var/lib/keyrotor/zmk.p12")
                              .addHsmMechanisms("AES_KEY_WRAP_PAD")
                              .addHsmMechanisms("AES_GCM")
                              .setHsmDescription("software key file /var/lib/keyrotor/zmk.p12")
                              .setRegisteredTime(time("2026-12-07T07:00:00Z")))
                      .addZones(
                          ZoneResidency.newBuilder().setZone("default").addNodeIds("n1").setKeys(3))
                      .setAuditChain(notYet)
                      .setDestructionReceipts(notYet))
              .build());
      response.onNext(
          keys(
              KeyCompliance.newBuilder()
                  .setName("cards")
                  .setZone("default")
                  .setOwner("payments")
                  .setTemplate("pci-dss")
                  .setPolicy(pci)
                  .setPrimaryVersion(3)
                  .setLastRotationTime(time("2026-12-07T08:00:00Z"))
                  .setPrimaryAge(Duration.newBuilder().setSeconds(7200))
                  .setNextRotationTime(time("2027-12-07T08:00:00Z"))
                  .setPrimaryEncryptions(1000)
                  .setPrimaryEncryptionLimit(1L << 31)
                  .addRetiredVersions(
                      RetiredVersion.newBuilder()
                          .setVersion(2)
                          .setRetiredTime(time("2026-12-07T08:00:00Z"))
                          .setState(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY)
                          .setRetiredFor(Duration.newBuilder().setSeconds(7200))
                          .setDataKeysIssued(10)
                          .setDataKeysRewrappedAway(4)
                          .setDataKeysOutstanding(6))
                  .addZoneNodes("n1")
                  .addDestructionReceipts(
                      DestructionReceipt.newBuilder()
                          .setName("cards")
                          .setVersion(1)
                          .setZone("default")
                          .setDestroyedTime(time("2026-12-01T00:00:00Z"))
                          .setScheduledDestroyTime(time("2026-12-01T00:00:00Z"))
                          .setScheduledBy("alice")
                          .setLogIndex(17)
                          .setAuditRecordHash("9f86d0")
                          .setSignature(
                              DestructionReceiptSignature.newBuilder()
                                  .setSignerNode("n1")
                                  .setKeyVersion(1)
                                  .setSignature(ByteString.copyFrom(new byte[] {1, 2, 3}))
                                  .setRecordedIndex(18)))
                  .build(),
              plain("charts", "<b>records", "hipaa", 400 * 24)
                  .addFindings(
                      finding(
                          FindingKind.FINDING_KIND_POLICY_DRIFT,
                          "rotation_period 400d is longer than the template's 365d"))
                  .build()));
      response.onNext(
          keys(
              plain("hourly", "bob", "", 1)
                  .addFindings(
                      finding(
                          FindingKind.FINDING_KIND_ROTATION_LATE, "due since 2026-12-07T09:00:00Z"))
                  .build()));
      response.onNext(
          ComplianceReportChunk.newBuilder()
              .setSummary(
                  ComplianceReportSummary.newBuilder()
                      .setKeys(3)
                      .setExceptions(2)
                      .addFindings(count(FindingKind.FINDING_KIND_POLICY_DRIFT))
                      .addFindings(count(FindingKind.FINDING_KIND_ROTATION_LATE))
                      .addTemplates(TemplateCount.newBuilder().setTemplate("").setKeys(1))
                      .addTemplates(TemplateCount.newBuilder().setTemplate("hipaa").setKeys(1))
                      .addTemplates(TemplateCount.newBuilder().setTemplate("pci-dss").setKeys(1)))
              .build());
      response.onCompleted();
    }

    private static KeyCompliance.Builder plain(
        String name, String owner, String template, long periodHours) {
      return KeyCompliance.newBuilder()
          .setName(name)
          .setZone("default")
          .setOwner(owner)
          .setTemplate(template)
          .setPolicy(
              RotationPolicy.newBuilder()
                  .setRotationPeriod(Duration.newBuilder().setSeconds(periodHours * 3600))
                  .setTemplate(template))
          .setPrimaryVersion(1)
          .setPrimaryEncryptionLimit(1L << 31)
          .addZoneNodes("n1");
    }

    private static ComplianceReportChunk keys(KeyCompliance... keys) {
      return ComplianceReportChunk.newBuilder()
          .setKeys(ComplianceKeyChunk.newBuilder().addAllKeys(List.of(keys)))
          .build();
    }

    private static ComplianceFinding finding(FindingKind kind, String detail) {
      return ComplianceFinding.newBuilder().setKind(kind).setDetail(detail).build();
    }

    private static FindingCount count(FindingKind kind) {
      return FindingCount.newBuilder().setKind(kind).setKeys(1).build();
    }

    private static Duration days(long days) {
      return Duration.newBuilder().setSeconds(days * 86_400).build();
    }

    private static Timestamp time(String rfc3339) {
      return Timestamp.newBuilder()
          .setSeconds(java.time.Instant.parse(rfc3339).getEpochSecond())
          .build();
    }
  }

  // ------------------------------------------------------------------- running and rendering

  private CliRun run(String... args) {
    List<String> all = new ArrayList<>(List.of("--servers", node.address()));
    all.addAll(CliHarness.tlsOptions());
    all.addAll(List.of(args));
    return CliRun.execute(CliRun.cli(workingDirectory), new byte[0], all.toArray(String[]::new));
  }

  /** The page's DOM as headless Chromium parsed and laid it out. */
  private static String renderedDom(Path page) throws IOException, InterruptedException {
    String chromium = chromiumOrNull();
    if (chromium == null) {
      boolean ci = "true".equalsIgnoreCase(System.getenv().getOrDefault("CI", "").trim());
      assertFalse(ci, "chromium is not installed (scripts/test installs the Debian package)");
      assumeTrue(false, "chromium is not installed; scripts/test installs it");
    }
    Process process =
        new ProcessBuilder(
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--dump-dom",
                page.toUri().toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    byte[] out = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(5, TimeUnit.MINUTES), "chromium did not finish");
    assertEquals(0, process.exitValue(), "chromium failed");
    return new String(out, StandardCharsets.UTF_8);
  }

  private static String chromiumOrNull() {
    List<String> dirs = new ArrayList<>();
    Matcher dir =
        Pattern.compile("[^" + java.io.File.pathSeparator + "]+")
            .matcher(System.getenv().getOrDefault("PATH", ""));
    while (dir.find()) {
      dirs.add(dir.group());
    }
    for (String name : List.of("chromium", "chromium-browser")) {
      for (String each : dirs) {
        Path candidate = Path.of(each, name);
        if (Files.isExecutable(candidate)) {
          return candidate.toString();
        }
      }
    }
    return null;
  }

  /** The number on the summary card with {@code id}. */
  private static String cardValue(String dom, String id) {
    Matcher m =
        Pattern.compile("id=\"" + Pattern.quote(id) + "\"><div class=\"n\">(\\d+)</div>")
            .matcher(dom);
    assertTrue(m.find(), id + " in " + dom);
    return m.group(1);
  }

  /** The element with {@code id} up to the end of its table. */
  private static String section(String dom, String id) {
    int start = dom.indexOf("id=\"" + id + "\"");
    assertTrue(start >= 0, id);
    return dom.substring(start, dom.indexOf("</table>", start));
  }

  /** The body rows of a table, each as its cells' text (markup removed, entities kept). */
  private static List<List<String>> rows(String table) {
    List<List<String>> rows = new ArrayList<>();
    String body = table.substring(table.indexOf("<tbody>"));
    Matcher row = Pattern.compile("<tr[^>]*>(.*?)</tr>", Pattern.DOTALL).matcher(body);
    while (row.find()) {
      List<String> cells = new ArrayList<>();
      Matcher cell = Pattern.compile("<td[^>]*>(.*?)</td>", Pattern.DOTALL).matcher(row.group(1));
      while (cell.find()) {
        cells.add(cell.group(1).replaceAll("<[^>]+>", ""));
      }
      rows.add(cells);
    }
    return rows;
  }
}
