package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.keyrotor.api.v1.CancelRotationRequest;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.ListKeyEventsRequest;
import io.keyrotor.api.v1.ListRotationsRequest;
import io.keyrotor.api.v1.RollbackRotationRequest;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.RotationStatus;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.SetVersionFloorsRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.GrpcErrors;
import io.keyrotor.client.testing.ManualClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rotation engine's commands, in-process, against a scripted server on a loopback port. */
class KeyRotationCliTest extends CliHarness<FakeKeyService> {
  private final ManualClock clock = new ManualClock(FakeKeyService.NOW);

  KeyRotationCliTest() {
    super(new FakeKeyService());
  }

  @Override
  KeyrotorCli cli() {
    return super.cli().withTime(clock, clock.sleeper());
  }

  private List<JsonObject> stdoutJsonLines() {
    List<JsonObject> lines = new ArrayList<>();
    stdout.lines().forEach(line -> lines.add(JsonParser.parseString(line).getAsJsonObject()));
    return lines;
  }

  private static Timestamp at(String rfc3339) {
    Instant instant = Instant.parse(rfc3339);
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).build();
  }

  private static com.google.protobuf.Duration seconds(long seconds) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(seconds).build();
  }

  private static KeyVersion version(int number, KeyVersionState state) {
    return KeyVersion.newBuilder()
        .setVersion(number)
        .setState(state)
        .setCreateTime(at("2025-03-01T12:00:00Z"))
        .setActivationTime(at("2025-03-01T12:00:00Z"))
        .build();
  }

  /** payments: v1 decrypt-only, v2 primary, v3 pending; zone eu, label team=pay. */
  private Key putPayments() {
    Key key =
        Key.newBuilder()
            .setName("payments")
            .setZone("eu")
            .putLabels("team", "pay")
            .setPrimaryVersion(2)
            .setRevision(5)
            .addVersions(version(1, KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY))
            .addVersions(version(2, KeyVersionState.KEY_VERSION_STATE_PRIMARY))
            .addVersions(version(3, KeyVersionState.KEY_VERSION_STATE_PENDING))
            .build();
    keys.put(key);
    return key;
  }

  private static void assertUsageError(int status, String stderr, String command) {
    assertEquals(2, status, stderr);
    assertEquals(1, stderr.lines().count(), stderr);
    assertTrue(stderr.startsWith("error: "), stderr);
    assertTrue(stderr.endsWith("(see: keyrotor " + command + " --help)\n"), stderr);
  }

  @Test
  void help_onANestedCommand_printsItsUsageWithTheMergeRule() {
    assertEquals(0, run("key", "set-policy", "--help"), stderr);

    assertTrue(stdout.startsWith("Usage: keyrotor key set-policy "), stdout);
    assertTrue(stdout.contains("Flags not given keep their current value"), stdout);
    assertTrue(stdout.contains("--next-rotation=RFC3339"), stdout);
    assertTrue(keys.received().isEmpty());
  }

  // ---------------------------------------------------------------------------------------------
  // key create / set-policy

  @Test
  void keyCreate_policyFlags_sendActivationDelayForFirstVersionAndPolicyBoth() {
    int status =
        run(
            "key",
            "create",
            "payments",
            "--rotation-period",
            "90d",
            "--max-encryptions",
            "1000000",
            "--activation-delay",
            "1h",
            "--decrypt-grace",
            "7d",
            "--template",
            "pci-dss",
            "--json");

    assertEquals(0, status, stderr);
    CreateKeyRequest sent = keys.received(CreateKeyRequest.class).get(0);
    assertEquals(3600, sent.getActivationDelay().getSeconds(), "the first version's delay");
    RotationPolicy policy = sent.getRotationPolicy();
    assertEquals(3600, policy.getActivationDelay().getSeconds(), "later rotations' delay");
    assertEquals(90 * 86_400, policy.getRotationPeriod().getSeconds());
    assertEquals(1_000_000, policy.getMaxEncryptions());
    assertEquals(7 * 86_400, policy.getDecryptGrace().getSeconds());
    assertEquals("pci-dss", sent.getTemplate());
    assertEquals("payments", stdoutJson().get("name").getAsString());
  }

  @Test
  void keyCreate_templateOnly_sendsNoPolicySoTheTemplateFillsIt() {
    assertEquals(0, run("key", "create", "payments", "--template", "high-sensitivity"), stderr);

    CreateKeyRequest sent = keys.received(CreateKeyRequest.class).get(0);
    assertFalse(sent.hasRotationPolicy());
    assertFalse(sent.hasActivationDelay());
    assertEquals("high-sensitivity", sent.getTemplate());
  }

  @Test
  void keyCreate_zeroRotationPeriod_isAUsageError() {
    int status = run("key", "create", "payments", "--rotation-period", "0");

    assertUsageError(status, stderr, "key create");
    assertTrue(keys.received().isEmpty());
  }

  private void putPaymentsWithPolicy(Timestamp anchor) {
    RotationPolicy.Builder policy =
        RotationPolicy.newBuilder()
            .setRotationPeriod(seconds(90 * 86_400))
            .setMaxEncryptions(1000)
            .setActivationDelay(seconds(3600))
            .setDecryptGrace(seconds(7 * 86_400))
            .setTemplate("high-sensitivity");
    if (anchor != null) {
      policy.setNextRotationTime(anchor);
    }
    keys.put(putPayments().toBuilder().setRotationPolicy(policy).build());
  }

  @Test
  void setPolicy_oneFlag_keepsEveryOtherFieldOfTheCurrentPolicy() {
    putPaymentsWithPolicy(at("2025-04-01T00:00:00Z"));

    int status = run("key", "set-policy", "payments", "--max-encryptions", "5000", "--json");

    assertEquals(0, status, stderr);
    SetRotationPolicyRequest sent = keys.received(SetRotationPolicyRequest.class).get(0);
    assertEquals(
        RotationPolicy.newBuilder()
            .setRotationPeriod(seconds(90 * 86_400))
            .setMaxEncryptions(5000)
            .setActivationDelay(seconds(3600))
            .setDecryptGrace(seconds(7 * 86_400))
            .setNextRotationTime(at("2025-04-01T00:00:00Z"))
            .setTemplate("high-sensitivity")
            .build(),
        sent.getRotationPolicy());
    assertEquals("", sent.getTemplate(), "no new template asked for");
    assertFalse(sent.getRequestId().isEmpty());
    JsonObject policy = stdoutJson().getAsJsonObject("policy");
    assertEquals("90d", policy.get("rotation_period").getAsString());
    assertEquals(5000, policy.get("max_encryptions").getAsLong());
    assertEquals("1h", policy.get("activation_delay").getAsString());
    assertEquals("7d", policy.get("decrypt_grace").getAsString());
  }

  @Test
  void setPolicy_anchorThatHasPassed_isDroppedAndANewOneIsSent() {
    putPaymentsWithPolicy(at("2025-02-01T00:00:00Z")); // before the fake's "now"

    assertEquals(0, run("key", "set-policy", "payments", "--decrypt-grace", "0"), stderr);
    RotationPolicy sent = keys.received(SetRotationPolicyRequest.class).get(0).getRotationPolicy();
    assertFalse(sent.hasNextRotationTime(), "a used anchor is not sent back");
    assertEquals(0, sent.getDecryptGrace().getSeconds());
    assertEquals(90 * 86_400, sent.getRotationPeriod().getSeconds());

    assertEquals(
        0, run("key", "set-policy", "payments", "--next-rotation", "2025-06-01T02:00:00+02:00"));
    RotationPolicy anchored =
        keys.received(SetRotationPolicyRequest.class).get(1).getRotationPolicy();
    assertEquals(at("2025-06-01T00:00:00Z"), anchored.getNextRotationTime());
  }

  @Test
  void setPolicy_zeroRotationPeriod_removesTheSchedule() {
    putPaymentsWithPolicy(null);

    assertEquals(0, run("key", "set-policy", "payments", "--rotation-period", "0s"), stderr);

    RotationPolicy sent = keys.received(SetRotationPolicyRequest.class).get(0).getRotationPolicy();
    assertFalse(sent.hasRotationPeriod());
    assertEquals(1000, sent.getMaxEncryptions(), "the rest is kept");
  }

  @Test
  void setPolicy_template_startsFromTheTemplateNotTheCurrentPolicy() {
    putPaymentsWithPolicy(null);

    int status =
        run("key", "set-policy", "payments", "--template", "pci-dss", "--activation-delay", "5m");

    assertEquals(0, status, stderr);
    SetRotationPolicyRequest sent = keys.received(SetRotationPolicyRequest.class).get(0);
    assertEquals("pci-dss", sent.getTemplate());
    assertEquals(
        RotationPolicy.newBuilder().setTemplate("pci-dss").setActivationDelay(seconds(300)).build(),
        sent.getRotationPolicy());
  }

  @Test
  void setPolicy_noFlags_isAUsageErrorAndSendsNothing() {
    putPayments();

    assertUsageError(run("key", "set-policy", "payments"), stderr, "key set-policy");
    assertTrue(keys.received().isEmpty());
  }

  @Test
  void setPolicy_badTime_isAUsageError() {
    int status = run("key", "set-policy", "payments", "--next-rotation", "tomorrow");

    assertUsageError(status, stderr, "key set-policy");
    assertTrue(stderr.contains("expected RFC 3339"), stderr);
  }

  @Test
  void setPolicy_missingKey_printsOneErrorLine() {
    int status = run("key", "set-policy", "payments", "--max-encryptions", "10");

    assertEquals(1, status);
    assertEquals("", stdout);
    assertEquals("error: key \"payments\" not found (KEY_NOT_FOUND)\n", stderr);
    assertTrue(keys.received(SetRotationPolicyRequest.class).isEmpty());
  }

  // ---------------------------------------------------------------------------------------------
  // rotate-all / bulk-status

  @Test
  void rotateAll_zoneAndLabels_startsOneJobAndPrintsIt() {
    putPayments();

    int status =
        run(
            "key",
            "rotate-all",
            "--zone",
            "eu",
            "--label",
            "team=pay",
            "--reason",
            "compromise",
            "--json");

    assertEquals(0, status, stderr);
    StartBulkRotationRequest sent = keys.received(StartBulkRotationRequest.class).get(0);
    assertEquals("eu", sent.getZone());
    assertEquals(Map.of("team", "pay"), sent.getLabelSelectorMap());
    assertEquals(RotationReason.ROTATION_REASON_COMPROMISE, sent.getReason());
    JsonObject job = stdoutJson();
    assertEquals(
        List.of("id", "zone", "label_selector", "reason", "start_time", "total", "remaining"),
        List.copyOf(job.keySet()));
    assertEquals(sent.getRequestId(), job.get("id").getAsString(), "the request id is the job id");
    assertEquals("COMPROMISE", job.get("reason").getAsString());
    assertEquals(1, job.get("total").getAsLong());
  }

  @Test
  void rotateAll_wait_printsEachChangeOfProgressUntilNoKeyIsLeft() {
    putPayments();
    keys.put(putPayments().toBuilder().setName("ledger").build());
    keys.put(putPayments().toBuilder().setName("invoices").build());
    keys.bulkProgress(2, 2, 1, 0);

    int status = run("key", "rotate-all", "--zone", "eu", "--wait", "--json");

    assertEquals(0, status, stderr);
    List<Long> remaining = new ArrayList<>();
    for (JsonObject line : stdoutJsonLines()) {
      remaining.add(line.get("remaining").getAsLong());
      assertEquals(3, line.get("total").getAsLong());
    }
    assertEquals(List.of(3L, 2L, 1L, 0L), remaining);
    assertEquals(4, keys.received(GetBulkRotationRequest.class).size());
  }

  @Test
  void rotateAll_waitHuman_saysHowManyKeysAreLeft() {
    putPayments();
    keys.bulkProgress(0);

    assertEquals(0, run("key", "rotate-all", "--label", "team=pay", "--wait"), stderr);

    List<String> lines = stdout.lines().toList();
    assertEquals(2, lines.size(), stdout);
    assertTrue(lines.get(0).endsWith("(labels team=pay, MANUAL): 0 of 1 keys rotated, 1 left"));
    assertTrue(lines.get(1).endsWith("(labels team=pay, MANUAL): all 1 keys rotated"));
  }

  @Test
  void rotateAll_waitPastTimeout_failsWithOneLineAndTheJobId() {
    putPayments();
    keys.bulkProgress(1);

    int status = run("key", "rotate-all", "--zone", "eu", "--wait", "--timeout", "2s");

    assertEquals(1, status);
    String id = keys.received(StartBulkRotationRequest.class).get(0).getRequestId();
    assertEquals(
        "error: bulk rotation "
            + id
            + " did not finish within 2s (1 of 1 keys left); it continues in the background"
            + " (see: keyrotor key bulk-status "
            + id
            + ")\n",
        stderr);
  }

  @Test
  void rotateAll_withoutZoneOrLabel_isAUsageError() {
    assertUsageError(run("key", "rotate-all", "--wait"), stderr, "key rotate-all");
    assertTrue(keys.received().isEmpty());
  }

  @Test
  void bulkStatus_knownJob_printsItsProgress() {
    putPayments();
    run("key", "rotate-all", "--zone", "eu");
    String id = keys.received(StartBulkRotationRequest.class).get(0).getRequestId();
    keys.bulkProgress(0);

    assertEquals(0, run("key", "bulk-status", id, "--json"), stderr);

    JsonObject job = stdoutJson();
    assertEquals(id, job.get("id").getAsString());
    assertEquals("eu", job.get("zone").getAsString());
    assertEquals(0, job.get("remaining").getAsLong());
  }

  @Test
  void bulkStatus_unknownJob_printsOneErrorLine() {
    assertEquals(1, run("key", "bulk-status", "nope"));
    assertEquals("error: no bulk rotation \"nope\" (JOB_NOT_FOUND)\n", stderr);
  }

  // ---------------------------------------------------------------------------------------------
  // rollback / cancel-rotation / destroy / cancel-destroy

  @Test
  void rollback_primaryVersion_makesThePreviousOnePrimaryAndSendsTheReason() {
    putPayments();

    int status = run("key", "rollback", "payments", "v2", "--reason", "bad deploy", "--json");

    assertEquals(0, status, stderr);
    RollbackRotationRequest sent = keys.received(RollbackRotationRequest.class).get(0);
    assertEquals(2, sent.getVersion());
    assertEquals("bad deploy", sent.getReason());
    assertFalse(sent.hasEffectiveTime(), "effective now");
    JsonObject key = stdoutJson();
    assertEquals(1, key.get("primary_version").getAsInt());
    JsonObject v2 = key.getAsJsonArray("versions").get(1).getAsJsonObject();
    assertEquals("DECRYPT_ONLY", v2.get("state").getAsString());
    assertEquals("2025-03-01T12:00:00Z", v2.get("demoted_time").getAsString());
    assertEquals("bad deploy", v2.get("status_reason").getAsString());

    assertEquals(0, run("key", "get", "payments"), stderr);
    assertTrue(
        stdout.contains(
            "v2       DECRYPT_ONLY  2025-03-01T12:00:00Z  -       bad deploy (from"
                + " 2025-03-01T12:00:00Z)\n"),
        stdout);
  }

  @Test
  void rollback_unknownVersion_namesKeyAndVersion() {
    putPayments();

    assertEquals(1, run("key", "rollback", "payments", "9"));
    assertEquals("error: key \"payments\" has no version 9 (VERSION_NOT_FOUND)\n", stderr);
  }

  @Test
  void cancelRotation_pendingVersion_isCancelledWithTheReason() {
    putPayments();

    int status = run("key", "cancel-rotation", "payments", "3", "--reason", "wrong zone", "--json");

    assertEquals(0, status, stderr);
    CancelRotationRequest sent = keys.received(CancelRotationRequest.class).get(0);
    assertEquals("wrong zone", sent.getReason());
    JsonObject v3 = stdoutJson().getAsJsonArray("versions").get(2).getAsJsonObject();
    assertEquals("CANCELLED", v3.get("state").getAsString());
    assertEquals("wrong zone", v3.get("status_reason").getAsString());
  }

  @Test
  void cancelRotation_notPending_printsTheServersReason() {
    putPayments();
    keys.failNext(
        GrpcErrors.error(
            Status.Code.FAILED_PRECONDITION,
            "VERSION_NOT_PENDING",
            "version 2 of key \"payments\" is not pending",
            Map.of("key", "payments", "version", "2")));

    assertEquals(1, run("key", "cancel-rotation", "payments", "2"));
    assertEquals(
        "error: version 2 of key \"payments\" is not pending (VERSION_NOT_PENDING)\n", stderr);
  }

  @Test
  void destroy_waitingPeriod_isSentAndTheDestroyTimePrinted() {
    putPayments();

    int status = run("key", "destroy", "payments", "1", "--waiting-period", "2d", "--json");

    assertEquals(0, status, stderr);
    ScheduleKeyVersionDestroyRequest sent =
        keys.received(ScheduleKeyVersionDestroyRequest.class).get(0);
    assertEquals(2 * 86_400, sent.getWaitingPeriod().getSeconds());
    JsonObject v1 = stdoutJson().getAsJsonArray("versions").get(0).getAsJsonObject();
    assertEquals("DESTROY_SCHEDULED", v1.get("state").getAsString());
    assertEquals("2025-03-03T12:00:00Z", v1.get("destroy_time").getAsString());

    assertEquals(0, run("key", "destroy", "payments", "1"), stderr);
    assertFalse(keys.received(ScheduleKeyVersionDestroyRequest.class).get(1).hasWaitingPeriod());
    assertTrue(stdout.startsWith("payments v1 is destroyed at 2025-03-31T12:00:00Z"), stdout);
  }

  @Test
  void cancelDestroy_scheduledVersion_isDisabledAgain() {
    putPayments();
    run("key", "destroy", "payments", "1");

    assertEquals(0, run("key", "cancel-destroy", "payments", "1", "--json"), stderr);

    JsonObject v1 = stdoutJson().getAsJsonArray("versions").get(0).getAsJsonObject();
    assertEquals("DISABLED", v1.get("state").getAsString());
    assertTrue(v1.get("destroy_time").isJsonNull());
  }

  @Test
  void cancelDestroy_missingKey_printsOneErrorLine() {
    assertEquals(1, run("key", "cancel-destroy", "payments", "1"));
    assertEquals("error: key \"payments\" not found (KEY_NOT_FOUND)\n", stderr);
  }

  // ---------------------------------------------------------------------------------------------
  // floors / dependents

  @Test
  void floors_oneFlag_keepsTheOtherFloor() {
    keys.put(
        putPayments().toBuilder().setMinDecryptionVersion(1).setMinEncryptionVersion(2).build());

    assertEquals(0, run("key", "floors", "payments", "--min-decryption", "2", "--json"), stderr);

    SetVersionFloorsRequest sent = keys.received(SetVersionFloorsRequest.class).get(0);
    assertEquals(2, sent.getMinDecryptionVersion());
    assertEquals(2, sent.getMinEncryptionVersion(), "kept from the key");
    JsonObject key = stdoutJson();
    assertEquals(2, key.get("min_decryption_version").getAsInt());
    assertEquals(2, key.get("min_encryption_version").getAsInt());
  }

  @Test
  void floors_bothFlags_areSentWithoutReadingTheKey() {
    putPayments();

    int status = run("key", "floors", "payments", "--min-decryption", "0", "--min-encryption", "2");

    assertEquals(0, status, stderr);
    SetVersionFloorsRequest sent = keys.received(SetVersionFloorsRequest.class).get(0);
    assertEquals(0, sent.getMinDecryptionVersion());
    assertEquals(2, sent.getMinEncryptionVersion());
    assertTrue(stdout.startsWith("key payments: decryption floor none, encryption floor v2\n"));
    assertTrue(keys.received(io.keyrotor.api.v1.GetKeyRequest.class).isEmpty());
  }

  @Test
  void floors_noFlags_isAUsageError() {
    assertUsageError(run("key", "floors", "payments"), stderr, "key floors");
  }

  @Test
  void dependents_keys_replaceTheListAndNoneClearsIt() {
    putPayments();
    keys.put(Key.newBuilder().setName("ledger").build());
    keys.put(Key.newBuilder().setName("invoices").build());

    assertEquals(0, run("key", "dependents", "payments", "ledger", "invoices", "--json"), stderr);
    assertEquals(
        List.of("ledger", "invoices"),
        keys.received(SetKeyDependentsRequest.class).get(0).getDependentsList());
    JsonArray dependents = stdoutJson().getAsJsonArray("dependents");
    assertEquals(2, dependents.size());
    assertEquals("ledger", dependents.get(0).getAsString());

    assertEquals(0, run("key", "dependents", "payments"), stderr);
    assertEquals(0, keys.received(SetKeyDependentsRequest.class).get(1).getDependentsCount());
    assertTrue(stdout.startsWith("key payments: no dependents\n"), stdout);
  }

  @Test
  void dependents_unknownKey_printsOneErrorLine() {
    putPayments();

    assertEquals(1, run("key", "dependents", "payments", "ghost"));
    assertEquals("error: dependent key \"ghost\" not found (DEPENDENT_NOT_FOUND)\n", stderr);
  }

  // ---------------------------------------------------------------------------------------------
  // history / watch / rotations

  private static KeyEvent event(String cursor, String key, KeyEventType type, int version) {
    int dot = cursor.indexOf('.');
    return KeyEvent.newBuilder()
        .setCursor(cursor)
        .setType(type)
        .setKeyName(key)
        .setVersion(version)
        .setTime(at("2025-03-01T12:00:00Z"))
        .setActor("node n1, request r-" + cursor)
        .setReason(
            version > 1
                ? RotationReason.ROTATION_REASON_MANUAL
                : RotationReason.ROTATION_REASON_UNSPECIFIED)
        .setLogIndex(Long.parseLong(cursor.substring(0, dot)))
        .build();
  }

  private void putEvents() {
    keys.events(
        event("12.0", "payments", KeyEventType.KEY_EVENT_TYPE_CREATED, 1),
        event("30.0", "payments", KeyEventType.KEY_EVENT_TYPE_PENDING, 2),
        event("30.1", "ledger", KeyEventType.KEY_EVENT_TYPE_CREATED, 1),
        event("33.0", "payments", KeyEventType.KEY_EVENT_TYPE_ACKNOWLEDGED, 2),
        event("40.0", "payments", KeyEventType.KEY_EVENT_TYPE_POLICY_CHANGED, 0));
  }

  @Test
  void history_json_listsTheKeysEventsOldestFirst() {
    putPayments();
    putEvents();

    assertEquals(0, run("key", "history", "payments", "--limit", "50", "--json"), stderr);

    assertEquals(50, keys.received(ListKeyEventsRequest.class).get(0).getLimit());
    JsonObject json = stdoutJson();
    assertEquals("payments", json.get("key").getAsString());
    JsonArray events = json.getAsJsonArray("events");
    assertEquals(4, events.size());
    JsonObject pending = events.get(1).getAsJsonObject();
    assertEquals(
        List.of("cursor", "time", "event", "key", "version", "reason", "actor", "log_index"),
        List.copyOf(pending.keySet()));
    assertEquals("30.0", pending.get("cursor").getAsString());
    assertEquals("PENDING", pending.get("event").getAsString());
    assertEquals(2, pending.get("version").getAsInt());
    assertEquals("MANUAL", pending.get("reason").getAsString());
    assertEquals("node n1, request r-30.0", pending.get("actor").getAsString());
    assertTrue(events.get(3).getAsJsonObject().get("version").isJsonNull());
  }

  @Test
  void history_human_showsTimeEventVersionReasonAndActor() {
    putPayments();
    putEvents();

    assertEquals(0, run("key", "history", "payments"), stderr);

    List<String> lines = stdout.lines().toList();
    assertEquals("TIME                  EVENT           VERSION  REASON  ACTOR", lines.get(0));
    assertEquals(
        "2025-03-01T12:00:00Z  PENDING         v2       MANUAL  node n1, request r-30.0",
        lines.get(2));
    assertEquals(5, lines.size(), stdout);
  }

  private void putReceipt() {
    keys.putReceipt(
        io.keyrotor.api.v1.DestructionReceipt.newBuilder()
            .setName("payments")
            .setVersion(1)
            .setZone("eu")
            .setDestroyedTime(at("2025-03-01T12:00:00Z"))
            .setScheduledDestroyTime(at("2025-02-28T12:00:00Z"))
            .setScheduledBy("alice")
            .setLogIndex(42)
            .setAuditRecordHash("ab".repeat(32))
            .build());
  }

  @Test
  void receipt_json_hasTheChainPositionAndNullSignatureUntilSigned() {
    putReceipt();

    assertEquals(0, run("key", "receipt", "payments", "v1", "--json"), stderr);

    JsonObject json = stdoutJson();
    assertEquals(
        List.of(
            "key",
            "version",
            "zone",
            "destroyed_time",
            "scheduled_destroy_time",
            "scheduled_by",
            "log_index",
            "audit_record_hash",
            "signature"),
        List.copyOf(json.keySet()));
    assertEquals("payments", json.get("key").getAsString());
    assertEquals(1, json.get("version").getAsInt());
    assertEquals("2025-03-01T12:00:00Z", json.get("destroyed_time").getAsString());
    assertEquals("alice", json.get("scheduled_by").getAsString());
    assertEquals(42, json.get("log_index").getAsLong());
    assertEquals("ab".repeat(32), json.get("audit_record_hash").getAsString());
    assertTrue(json.get("signature").isJsonNull());
  }

  @Test
  void receipt_human_namesWhenWhoAndTheAuditRecord() {
    putReceipt();

    assertEquals(0, run("key", "receipt", "payments", "1"), stderr);

    assertTrue(stdout.startsWith("payments v1 was destroyed"), stdout);
    assertTrue(stdout.contains("scheduled by:  alice"), stdout);
    assertTrue(stdout.contains("log index:     42"), stdout);
    assertTrue(stdout.contains("audit record:  " + "ab".repeat(32)), stdout);
  }

  @Test
  void receipt_ofAVersionNotDestroyed_printsOneErrorLine() {
    assertEquals(1, run("key", "receipt", "payments", "2"));
    assertTrue(stderr.contains("VERSION_NOT_DESTROYED"), stderr);
    assertEquals(1, stderr.lines().count(), stderr);
  }

  @Test
  void history_missingKey_printsOneErrorLine() {
    assertEquals(1, run("key", "history", "payments"));
    assertEquals("error: key \"payments\" not found (KEY_NOT_FOUND)\n", stderr);
  }

  @Test
  void watch_fromCursor_printsJsonLinesOfTheEventsAfterIt() {
    putEvents();

    int status = run("key", "watch", "payments", "--from", "30.0", "--max-events", "2", "--json");

    assertEquals(0, status, stderr);
    WatchKeyEventsRequest sent = keys.received(WatchKeyEventsRequest.class).get(0);
    assertEquals("30.0", sent.getCursor());
    assertEquals(List.of("payments"), sent.getKeyNamesList());
    List<String> cursors = new ArrayList<>();
    for (JsonObject line : stdoutJsonLines()) {
      cursors.add(line.get("cursor").getAsString());
    }
    assertEquals(List.of("33.0", "40.0"), cursors);
  }

  @Test
  void watch_streamBreaks_resumesAfterTheLastPrintedEventWithoutDuplicates() {
    putEvents();
    keys.watchFailsAfter(2);

    int status = run("key", "watch", "--max-events", "5", "--json");

    assertEquals(0, status, stderr);
    List<String> cursors = new ArrayList<>();
    for (JsonObject line : stdoutJsonLines()) {
      cursors.add(line.get("cursor").getAsString());
    }
    assertEquals(List.of("12.0", "30.0", "30.1", "33.0", "40.0"), cursors);
    List<WatchKeyEventsRequest> requests = keys.received(WatchKeyEventsRequest.class);
    assertEquals("", requests.get(0).getCursor());
    assertEquals("30.0", requests.get(1).getCursor());
  }

  @Test
  void watch_human_printsOneLinePerEventEndingWithItsCursor() {
    putEvents();

    assertEquals(0, run("key", "watch", "payments", "--max-events", "2"), stderr);

    assertEquals(
        "2025-03-01T12:00:00Z  payments v1  CREATED  by node n1, request r-12.0  [cursor 12.0]\n"
            + "2025-03-01T12:00:00Z  payments v2  PENDING  MANUAL  by node n1, request r-30.0"
            + "  [cursor 30.0]\n",
        stdout);
  }

  @Test
  void watch_finalError_printsOneErrorLineAndExitsOne() {
    keys.failEvery(
        request ->
            request instanceof WatchKeyEventsRequest
                ? GrpcErrors.error(
                    Status.Code.INVALID_ARGUMENT,
                    "INVALID_CURSOR",
                    "cursor \"x\" is not one this server returned",
                    Map.of())
                : null);

    assertEquals(1, run("key", "watch", "--from", "x"));
    assertEquals("", stdout);
    assertEquals("error: cursor \"x\" is not one this server returned (INVALID_CURSOR)\n", stderr);
  }

  @Test
  void rotations_json_listsEveryKindAndSendsTheWindow() {
    keys.rotations(
        RotationStatus.newBuilder()
            .setKind(RotationStatus.Kind.KIND_PENDING)
            .setKeyName("payments")
            .setZone("eu")
            .setVersion(3)
            .setTime(at("2025-03-01T13:00:00Z"))
            .setDetail("waiting for acknowledgements from [n2] until 2025-03-01T12:48:00Z")
            .build(),
        RotationStatus.newBuilder()
            .setKind(RotationStatus.Kind.KIND_SCHEDULED)
            .setKeyName("ledger")
            .setZone("eu")
            .setTime(at("2025-03-05T00:00:00Z"))
            .setDetail("rotation policy")
            .build());

    assertEquals(0, run("rotations", "--due-within", "7d", "--json"), stderr);

    assertEquals(
        7 * 86_400, keys.received(ListRotationsRequest.class).get(0).getDueWithin().getSeconds());
    JsonArray rotations = stdoutJson().getAsJsonArray("rotations");
    JsonObject pending = rotations.get(0).getAsJsonObject();
    assertEquals(
        List.of("kind", "key", "zone", "version", "time", "detail"), List.copyOf(pending.keySet()));
    assertEquals("PENDING", pending.get("kind").getAsString());
    assertEquals(3, pending.get("version").getAsInt());
    JsonObject scheduled = rotations.get(1).getAsJsonObject();
    assertEquals("SCHEDULED", scheduled.get("kind").getAsString());
    assertTrue(scheduled.get("version").isJsonNull());

    assertEquals(0, run("rotations"), stderr);
    assertFalse(keys.received(ListRotationsRequest.class).get(1).hasDueWithin());
    assertTrue(stdout.startsWith("KIND       KEY       ZONE  VERSION  TIME"), stdout);
  }

  @Test
  void rotations_none_saysSo() {
    assertEquals(0, run("rotations"), stderr);
    assertEquals("no rotation pending, due, late, scheduled or failed\n", stdout);
  }

  @Test
  void rotations_serverDown_printsOneErrorLine() {
    String down = FakeNode.downAddress();

    assertEquals(1, run("--servers", down, "--deadline", "300ms", "rotations"));
    assertEquals("error: no server reachable at " + down + "\n", stderr);
  }

  // ---------------------------------------------------------------------------------------------
  // key get

  private Key putGatedPayments() {
    Key key =
        putPayments().toBuilder()
            .setRotationPolicy(
                RotationPolicy.newBuilder()
                    .setRotationPeriod(seconds(90 * 86_400))
                    .setActivationDelay(seconds(3600))
                    .setTemplate("high-sensitivity"))
            .setNextRotationTime(at("2025-05-30T13:00:00Z"))
            .addDependents("ledger")
            .setMinDecryptionVersion(1)
            .setMinEncryptionVersion(2)
            .setVersions(
                2,
                version(3, KeyVersionState.KEY_VERSION_STATE_PENDING).toBuilder()
                    .setActivationTime(at("2025-03-01T13:00:00Z"))
                    .addRequiredAcknowledgers("n1")
                    .addRequiredAcknowledgers("n2")
                    .addRequiredAcknowledgers("n3")
                    .addAcknowledgedBy("n1")
                    .setValidationDeadline(at("2025-03-01T12:48:00Z"))
                    .setRotationReason(RotationReason.ROTATION_REASON_SCHEDULED))
            .setVersions(
                1,
                version(2, KeyVersionState.KEY_VERSION_STATE_PRIMARY).toBuilder()
                    .setEncryptions(42))
            .build();
    keys.put(key);
    return key;
  }

  @Test
  void keyGet_json_appendsTheRotationFieldsAfterTheDocumentedOnes() {
    putGatedPayments();

    assertEquals(0, run("key", "get", "payments", "--json"), stderr);

    JsonObject key = stdoutJson();
    assertEquals(
        List.of(
            "name",
            "zone",
            "primary_version",
            "versions",
            "labels",
            "revision",
            "create_time",
            "policy",
            "next_rotation_time",
            "dependents",
            "rotation_requested_by",
            "min_decryption_version",
            "min_encryption_version"),
        List.copyOf(key.keySet()));
    assertEquals("2025-05-30T13:00:00Z", key.get("next_rotation_time").getAsString());
    assertEquals("ledger", key.getAsJsonArray("dependents").get(0).getAsString());
    assertTrue(key.get("rotation_requested_by").isJsonNull());
    assertEquals("90d", key.getAsJsonObject("policy").get("rotation_period").getAsString());
    JsonObject v3 = key.getAsJsonArray("versions").get(2).getAsJsonObject();
    assertEquals(
        List.of(
            "version",
            "state",
            "activation_time",
            "create_time",
            "destroy_time",
            "rotation_reason",
            "required_acknowledgers",
            "acknowledged_by",
            "validation_deadline",
            "encryptions",
            "status_reason",
            "demoted_time"),
        List.copyOf(v3.keySet()));
    assertEquals(3, v3.getAsJsonArray("required_acknowledgers").size());
    assertEquals("n1", v3.getAsJsonArray("acknowledged_by").get(0).getAsString());
    assertEquals("2025-03-01T12:48:00Z", v3.get("validation_deadline").getAsString());
    assertEquals(
        42, key.getAsJsonArray("versions").get(1).getAsJsonObject().get("encryptions").getAsLong());
  }

  @Test
  void keyGet_human_showsPolicyNextRotationAndValidationOfPendingVersions() {
    putGatedPayments();

    assertEquals(0, run("key", "get", "payments"), stderr);

    assertTrue(
        stdout.contains(
            "policy         every 90d, activation delay 1h, decrypt grace until the floor is"
                + " raised, template high-sensitivity\n"),
        stdout);
    assertTrue(stdout.contains("next rotation  2025-05-30T13:00:00Z\n"), stdout);
    assertTrue(stdout.contains("floors         decrypt from v1, encrypt from v2\n"), stdout);
    assertTrue(stdout.contains("dependents     ledger\n"), stdout);
    assertTrue(
        stdout.contains(
            "v3       PENDING       2025-03-01T13:00:00Z  SCHEDULED  1/3 acknowledged, waiting"
                + " for n2,n3 until 2025-03-01T12:48:00Z\n"),
        stdout);
  }
}
