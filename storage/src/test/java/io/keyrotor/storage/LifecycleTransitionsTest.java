package io.keyrotor.storage;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.SetDependents;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionFloors;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The rotation engine's transitions, driven by a manual clock: every command carries its time. */
class LifecycleTransitionsTest {
  private static final long T0 = 1_700_000_000_000L;
  private final Map<String, KeyRecord> keys = new TreeMap<>();
  private final Map<String, NodeRecord> nodes = new TreeMap<>();
  private final Transitions transitions =
      new Transitions(
          StateReader.of(keys, nodes),
          new ZoneMasterKeyTransitions(
              n -> java.util.Optional.ofNullable(keys.get(n)),
              keys::values,
              z -> java.util.Optional.empty()));
  private long index = 1;

  @BeforeEach
  void threeNodesServeTheDefaultZone() {
    for (String id : List.of("n1", "n2", "n3")) {
      nodes.put(id, NodeRecord.newBuilder().setId(id).addZones("default").build());
    }
  }

  private Effects apply(Command command) {
    // Rotations here carry their activation time directly (the leader would derive it from a
    // delay); destroy and rollback times come from the leader's stamp.
    Command stamped =
        command.hasScheduleVersionDestroy() || command.hasRollbackRotation()
            ? CommandStamping.stamp(command, command.getProposedTimeUnixMillis())
            : command;
    Effects effects = transitions.apply(stamped, index++, stamped.getProposedTimeUnixMillis());
    effects.allKeyWrites().forEach(k -> keys.put(k.getName(), k));
    return effects;
  }

  private static Command at(long time, Command.Builder command) {
    return command
        .setProposedTimeUnixMillis(time)
        .setRequestId("r" + time + command.getBodyCase())
        .build();
  }

  private KeyVersionState state(String name, int version, long time) {
    KeyRecord key = keys.get(name);
    return KeyVersions.stateAt(key, key.getVersions(version - 1), time);
  }

  private static List<Integer> eventTypes(Effects effects) {
    return effects.events().stream().map(KeyEventRecord::getType).toList();
  }

  private Effects ack(long time, String name, int version, String node) {
    return apply(
        at(
            time,
            Command.newBuilder()
                .setAcknowledgeVersion(
                    AcknowledgeVersion.newBuilder()
                        .setName(name)
                        .setVersion(version)
                        .setNode(node))));
  }

  @Test
  void delayedRotation_gatedUntilEveryServingNodeAcknowledges_thenPrimaryAtActivation() {
    apply(create("c", T0, "k"));
    Effects rotated =
        apply(rotate("r", T0 + 1, "k", T0 + 10_001, RotationReason.ROTATION_REASON_MANUAL));

    var v2 = keys.get("k").getVersions(1);
    assertEquals(List.of("n1", "n2", "n3"), v2.getRequiredAcknowledgersList());
    assertEquals(T0 + 10_001 - 2_000, v2.getValidationDeadlineUnixMillis(), "margin = delay / 5");
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_PENDING_VALUE), eventTypes(rotated));

    ack(T0 + 100, "k", 2, "n1");
    ack(T0 + 200, "k", 2, "n3");
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_PENDING, state("k", 2, T0 + 20_000), "n2 missing");
    assertEquals(1, KeyVersions.primaryVersionAt(keys.get("k"), T0 + 20_000));

    Effects last = ack(T0 + 300, "k", 2, "n2");

    assertEquals(T0 + 300, keys.get("k").getVersions(1).getValidatedTimeUnixMillis());
    assertTrue(last.result().getMessage().contains("validated"));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, state("k", 2, T0 + 10_000));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, T0 + 10_001));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, state("k", 1, T0 + 10_001));
  }

  @Test
  void missedValidationDeadline_versionNeverPrimaryAndCancelKeepsPreviousPrimary() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0, "k", T0 + 10_000, RotationReason.ROTATION_REASON_MANUAL));
    ack(T0 + 100, "k", 2, "n1");
    ack(T0 + 100, "k", 2, "n2");
    ack(T0 + 9_000, "k", 2, "n3"); // after the deadline (T0 + 8000): too late

    assertEquals(1, KeyVersions.primaryVersionAt(keys.get("k"), T0 + 60_000));
    Effects cancelled =
        apply(
            at(
                T0 + 8_001,
                Command.newBuilder()
                    .setCancelRotation(
                        CancelRotation.newBuilder()
                            .setName("k")
                            .setVersion(2)
                            .setOnlyIfUnvalidated(true)
                            .setReason("validation gate: n3 late"))));

    assertEquals(Code.OK_VALUE, cancelled.result().getCode());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_CANCELLED, state("k", 2, T0 + 60_000));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 1, T0 + 60_000));
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_CANCELLED_VALUE), eventTypes(cancelled));
    // A new rotation may start again right away.
    Effects again =
        apply(rotate("r2", T0 + 8_002, "k", T0 + 8_002, RotationReason.ROTATION_REASON_MANUAL));
    assertEquals(3, again.result().getVersion());
  }

  @Test
  void cancelOnlyIfUnvalidated_validatedVersion_refusedAndUnchanged() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0, "k", T0 + 10_000, RotationReason.ROTATION_REASON_MANUAL));
    for (String node : List.of("n1", "n2", "n3")) {
      ack(T0 + 10, "k", 2, node);
    }

    Effects refused =
        apply(
            at(
                T0 + 8_001,
                Command.newBuilder()
                    .setCancelRotation(
                        CancelRotation.newBuilder()
                            .setName("k")
                            .setVersion(2)
                            .setOnlyIfUnvalidated(true))));

    assertEquals("VERSION_VALIDATED", refused.result().getReason());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, T0 + 10_000));
  }

  @Test
  void acknowledgement_fromANodeThatDoesNotServeTheZone_refused() {
    nodes.put("us1", NodeRecord.newBuilder().setId("us1").addZones("us").build());
    apply(create("c", T0, "k"));
    apply(rotate("r", T0, "k", T0 + 5_000, RotationReason.ROTATION_REASON_MANUAL));

    Effects refused = ack(T0 + 1, "k", 2, "us1");

    assertEquals("NOT_A_VALIDATOR", refused.result().getReason());
    assertTrue(keys.get("k").getVersions(1).getAcknowledgedByList().isEmpty());
  }

  @Test
  void compromiseAndImmediateRotations_notGated() {
    apply(create("c", T0, "k"));
    apply(rotate("r1", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    apply(rotate("r2", T0 + 2, "k", T0 + 9_999, RotationReason.ROTATION_REASON_COMPROMISE));

    assertEquals(0, keys.get("k").getVersions(1).getValidationDeadlineUnixMillis());
    assertEquals(0, keys.get("k").getVersions(2).getValidationDeadlineUnixMillis());
    assertEquals(3, KeyVersions.primaryVersionAt(keys.get("k"), T0 + 2));
  }

  @Test
  void rollback_previousVersionPrimaryAgainAndRolledBackOneStillDecrypts() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));

    Effects rolledBack =
        apply(
            at(
                T0 + 100,
                Command.newBuilder()
                    .setRollbackRotation(
                        RollbackRotation.newBuilder()
                            .setName("k")
                            .setVersion(2)
                            .setReason("bad deploy"))));

    assertEquals(Code.OK_VALUE, rolledBack.result().getCode());
    assertEquals(1, rolledBack.result().getVersion(), "the new primary");
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 1, T0 + 100));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, state("k", 2, T0 + 100));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, T0 + 99), "before it");
    assertEquals(
        List.of(
            KeyEventType.KEY_EVENT_TYPE_ROLLED_BACK_VALUE,
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED_VALUE),
        eventTypes(rolledBack));
  }

  @Test
  void rollback_ofANonPrimaryOrWithoutAFallback_refused() {
    apply(create("c", T0, "k"));
    Command rollbackFirst =
        at(
            T0 + 1,
            Command.newBuilder()
                .setRollbackRotation(RollbackRotation.newBuilder().setName("k").setVersion(1)));
    assertEquals("NO_PREVIOUS_VERSION", apply(rollbackFirst).result().getReason());
    apply(rotate("r", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));
    Command rollbackOld =
        at(
            T0 + 3,
            Command.newBuilder()
                .setRollbackRotation(RollbackRotation.newBuilder().setName("k").setVersion(1)));
    assertEquals("VERSION_NOT_PRIMARY", apply(rollbackOld).result().getReason());
  }

  @Test
  void destroy_scheduledCancelledAndExecutedOnlyWhenDue() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    Command scheduleV2 =
        at(
            T0 + 2,
            Command.newBuilder()
                .setScheduleVersionDestroy(
                    ScheduleVersionDestroy.newBuilder()
                        .setName("k")
                        .setVersion(2)
                        .setWaitingPeriodMillis(1_000)));
    assertEquals("VERSION_IS_PRIMARY", apply(scheduleV2).result().getReason());

    Effects scheduled =
        apply(
            at(
                T0 + 10,
                Command.newBuilder()
                    .setScheduleVersionDestroy(
                        ScheduleVersionDestroy.newBuilder()
                            .setName("k")
                            .setVersion(1)
                            .setWaitingPeriodMillis(5_000))));
    assertEquals(Code.OK_VALUE, scheduled.result().getCode());
    assertEquals(T0 + 5_010, keys.get("k").getVersions(0).getDestroyTimeUnixMillis());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DESTROY_SCHEDULED, state("k", 1, T0 + 11));

    Command early =
        at(
            T0 + 5_000,
            Command.newBuilder()
                .setDestroyVersion(DestroyVersion.newBuilder().setName("k").setVersion(1)));
    assertEquals("DESTROY_NOT_DUE", apply(early).result().getReason());
    assertTrue(keys.get("k").getVersions(0).hasKek());

    apply(
        at(
            T0 + 5_001,
            Command.newBuilder()
                .setCancelVersionDestroy(
                    CancelVersionDestroy.newBuilder().setName("k").setVersion(1))));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, state("k", 1, T0 + 5_002));

    apply(
        at(
            T0 + 6_000,
            Command.newBuilder()
                .setScheduleVersionDestroy(
                    ScheduleVersionDestroy.newBuilder()
                        .setName("k")
                        .setVersion(1)
                        .setWaitingPeriodMillis(10))));
    Effects destroyed =
        apply(
            at(
                T0 + 7_000,
                Command.newBuilder()
                    .setDestroyVersion(DestroyVersion.newBuilder().setName("k").setVersion(1))));
    assertEquals(Code.OK_VALUE, destroyed.result().getCode());
    assertFalse(keys.get("k").getVersions(0).hasKek(), "the wrapped KEK is erased");
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DESTROYED, state("k", 1, T0 + 7_000));
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_DESTROYED_VALUE), eventTypes(destroyed));
  }

  @Test
  void raisingTheDecryptionFloor_disablesOlderVersions_notThePrimary() {
    apply(create("c", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    apply(rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));

    Command tooHigh =
        at(
            T0 + 3,
            Command.newBuilder()
                .setSetVersionFloors(
                    SetVersionFloors.newBuilder().setName("k").setMinDecryptionVersion(4)));
    assertEquals("INVALID_VERSION", apply(tooHigh).result().getReason());
    Effects raised =
        apply(
            at(
                T0 + 4,
                Command.newBuilder()
                    .setSetVersionFloors(
                        SetVersionFloors.newBuilder().setName("k").setMinDecryptionVersion(3))));

    assertEquals(Code.OK_VALUE, raised.result().getCode());
    assertEquals(VersionStatus.VERSION_STATUS_DISABLED, keys.get("k").getVersions(0).getStatus());
    assertEquals(VersionStatus.VERSION_STATUS_DISABLED, keys.get("k").getVersions(1).getStatus());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 3, T0 + 4));
  }

  @Test
  void usageReports_addUpPerVersionAndSkipUnknownKeys() {
    apply(create("c", T0, "k"));
    Command report =
        at(
            T0 + 1,
            Command.newBuilder()
                .setReportUsage(
                    ReportUsage.newBuilder()
                        .setNode("n1")
                        .addCounts(
                            UsageCount.newBuilder().setName("k").setVersion(1).setEncryptions(40))
                        .addCounts(
                            UsageCount.newBuilder()
                                .setName("gone")
                                .setVersion(1)
                                .setEncryptions(9))));
    apply(report);
    apply(at(T0 + 2, report.toBuilder()));

    assertEquals(80, keys.get("k").getVersions(0).getEncryptions());
  }

  @Test
  void dependents_cycleRefusedAndRotationAsksDependentsToRotate() {
    for (String name : List.of("root", "mid", "leaf")) {
      apply(create("c-" + name, T0, name));
    }
    Command rootDeps =
        at(
            T0 + 1,
            Command.newBuilder()
                .setSetDependents(SetDependents.newBuilder().setName("root").addDependents("mid")));
    Command midDeps =
        at(
            T0 + 2,
            Command.newBuilder()
                .setSetDependents(SetDependents.newBuilder().setName("mid").addDependents("leaf")));
    assertEquals(Code.OK_VALUE, apply(rootDeps).result().getCode());
    assertEquals(Code.OK_VALUE, apply(midDeps).result().getCode());
    Command cycle =
        at(
            T0 + 3,
            Command.newBuilder()
                .setSetDependents(
                    SetDependents.newBuilder().setName("leaf").addDependents("root")));
    Effects refused = apply(cycle);
    assertEquals("DEPENDENCY_CYCLE", refused.result().getReason());
    assertTrue(
        refused.result().getMessage().contains("leaf -> root -> mid -> leaf"),
        refused.result().getMessage());
    Command unknown =
        at(
            T0 + 4,
            Command.newBuilder()
                .setSetDependents(
                    SetDependents.newBuilder().setName("leaf").addDependents("nope")));
    assertEquals("DEPENDENT_NOT_FOUND", apply(unknown).result().getReason());

    apply(rotate("r", T0 + 10, "root", T0 + 10, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals("root", keys.get("mid").getRotationRequestedBy());
    assertEquals(
        RotationReason.ROTATION_REASON_DEPENDENCY_VALUE,
        keys.get("mid").getRotationRequestedReason());
    assertEquals(T0 + 10, keys.get("mid").getNextRotationTimeUnixMillis(), "due now");
    assertEquals("", keys.get("leaf").getRotationRequestedBy(), "after mid rotates, not before");
    apply(rotate("r-mid", T0 + 20, "mid", T0 + 20, RotationReason.ROTATION_REASON_DEPENDENCY));
    assertEquals("", keys.get("mid").getRotationRequestedBy(), "cleared when it rotated");
    assertEquals("mid", keys.get("leaf").getRotationRequestedBy());
  }

  @Test
  void schedule_nextRotationFollowsPeriodAnchorAndActivation() {
    RotationPolicyRecord daily =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(86_400_000L).build();
    apply(
        at(
            T0,
            Command.newBuilder()
                .setCreateKey(
                    CreateKey.newBuilder()
                        .setName("k")
                        .setZone("default")
                        .setKek(Commands.kek("default", "k1"))
                        .setPolicy(daily))));
    assertEquals(T0 + 86_400_000L, keys.get("k").getNextRotationTimeUnixMillis());

    apply(rotate("r", T0 + 1_000, "k", T0 + 3_000, RotationReason.ROTATION_REASON_SCHEDULED));
    assertEquals(T0 + 3_000 + 86_400_000L, keys.get("k").getNextRotationTimeUnixMillis());

    apply(
        at(
            T0 + 4_000,
            Command.newBuilder()
                .setSetRotationPolicy(
                    SetRotationPolicy.newBuilder()
                        .setName("k")
                        .setPolicy(daily.toBuilder().setNextRotationTimeUnixMillis(T0 + 50_000)))));
    assertEquals(T0 + 50_000, keys.get("k").getNextRotationTimeUnixMillis(), "explicit anchor");
  }

  private static final long DAY = 86_400_000L;

  private void createDaily(String name, RotationPolicyRecord.Builder policy) {
    apply(
        at(
            T0,
            Command.newBuilder()
                .setCreateKey(
                    CreateKey.newBuilder()
                        .setName(name)
                        .setZone("default")
                        .setKek(Commands.kek("default", name + "/1"))
                        .setPolicy(policy.setRotationPeriodMillis(DAY)))));
  }

  /** A scheduled rotation as the scheduler proposes it, stamped at {@code stampedTime}. */
  private static Command scheduledRotation(
      String requestId, long stampedTime, long activationDelay, long due, int expectedLatest) {
    Command rotate =
        rotate(
            requestId,
            stampedTime,
            "k",
            stampedTime + activationDelay,
            RotationReason.ROTATION_REASON_SCHEDULED,
            expectedLatest);
    Command.Builder builder = rotate.toBuilder();
    builder.getRotateKeyBuilder().setDueTimeUnixMillis(due);
    return builder.build();
  }

  @Test
  void scheduledRotation_stampedBeforeItsDueTime_activatesAtTheDueTimeNotEarly() {
    // Bug 2 of the chaos suite: the leader noticed the rotation due at `due`, then its clock
    // stepped
    // back 1.5 s before the command was stamped.
    createDaily("k", RotationPolicyRecord.newBuilder());
    long due = keys.get("k").getNextRotationTimeUnixMillis();
    assertEquals(T0 + DAY, due);
    long stamped = due - 1_500;

    Effects rotated = apply(scheduledRotation("sched", stamped, 0, due, 1));

    assertEquals(Code.OK_VALUE, rotated.result().getCode());
    KeyVersionRecord v2 = keys.get("k").getVersions(1);
    assertEquals(due, v2.getActivationTimeUnixMillis(), "not the stamped time");
    assertEquals(due, rotated.result().getActivationTimeUnixMillis());
    assertEquals(stamped, v2.getCreateTimeUnixMillis(), "created when the command applied");
    assertTrue(v2.getRequiredAcknowledgersList().isEmpty(), "no delay asked: not gated");
    assertEquals(0, v2.getValidationDeadlineUnixMillis());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, state("k", 2, due - 1));
    assertEquals(1, KeyVersions.primaryVersionAt(keys.get("k"), due - 1));
    assertEquals(2, KeyVersions.primaryVersionAt(keys.get("k"), due));
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_PENDING_VALUE), eventTypes(rotated));
    assertTrue(rotated.auditDetail().contains("due=" + due), rotated.auditDetail());
    assertEquals(due + DAY, keys.get("k").getNextRotationTimeUnixMillis(), "no drift");
  }

  @Test
  void scheduledRotationWithDelay_stampedBeforeItsDueTime_activatesADelayAfterTheDueTime() {
    createDaily("k", RotationPolicyRecord.newBuilder().setActivationDelayMillis(10_000));
    long due = T0 + DAY;
    long stamped = due - 3_000;

    apply(scheduledRotation("sched", stamped, 10_000, due, 1));

    KeyVersionRecord v2 = keys.get("k").getVersions(1);
    assertEquals(due + 10_000, v2.getActivationTimeUnixMillis());
    assertEquals(List.of("n1", "n2", "n3"), v2.getRequiredAcknowledgersList(), "gated as asked");
    assertEquals(due + 10_000 - 2_000, v2.getValidationDeadlineUnixMillis(), "margin = delay / 5");
    assertEquals(due + 10_000 + DAY, keys.get("k").getNextRotationTimeUnixMillis());
  }

  @Test
  void scheduledRotation_stampedAfterItsDueTime_activatesAtTheStampedTime() {
    createDaily("k", RotationPolicyRecord.newBuilder());
    long due = T0 + DAY;

    apply(scheduledRotation("sched", due + 250, 0, due, 1));

    assertEquals(due + 250, keys.get("k").getVersions(1).getActivationTimeUnixMillis());
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, due + 250), "active at once");
  }

  @Test
  void scheduledRotationForAnAnchor_stampedBeforeTheAnchor_usesItUpAndRotatesOnce() {
    long anchor = T0 + 50_000;
    createDaily("k", RotationPolicyRecord.newBuilder().setNextRotationTimeUnixMillis(anchor));
    assertEquals(anchor, keys.get("k").getNextRotationTimeUnixMillis());

    apply(scheduledRotation("sched", anchor - 1_500, 0, anchor, 1));

    assertEquals(anchor, keys.get("k").getVersions(1).getActivationTimeUnixMillis());
    assertEquals(0, keys.get("k").getPolicy().getNextRotationTimeUnixMillis(), "anchor used");
    assertEquals(
        anchor + DAY,
        keys.get("k").getNextRotationTimeUnixMillis(),
        "not due again at the anchor, right after it activates");
  }

  @Test
  void compromiseRotationWithADueTime_stillActivatesAtOnce() {
    createDaily("k", RotationPolicyRecord.newBuilder());
    long due = T0 + DAY;
    Command.Builder compromise =
        rotate("c", due - 1_500, "k", due - 1_500, RotationReason.ROTATION_REASON_COMPROMISE, 1)
            .toBuilder();
    compromise.getRotateKeyBuilder().setDueTimeUnixMillis(due);

    apply(compromise.build());

    assertEquals(due - 1_500, keys.get("k").getVersions(1).getActivationTimeUnixMillis());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, state("k", 1, due - 1_500));
  }

  @Test
  void cancellingAManualRotation_restoresTheSchedule_aFailedScheduledOneRetriesSoon() {
    RotationPolicyRecord daily =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(86_400_000L).build();
    apply(
        at(
            T0,
            Command.newBuilder()
                .setCreateKey(
                    CreateKey.newBuilder()
                        .setName("k")
                        .setZone("default")
                        .setKek(Commands.kek("default", "k"))
                        .setPolicy(daily))));
    apply(rotate("manual", T0 + 1_000, "k", T0 + 11_000, RotationReason.ROTATION_REASON_MANUAL));
    Command cancel =
        at(
            T0 + 2_000,
            Command.newBuilder()
                .setCancelRotation(CancelRotation.newBuilder().setName("k").setVersion(2)));
    apply(cancel);
    assertEquals(
        T0 + 86_400_000L, keys.get("k").getNextRotationTimeUnixMillis(), "the original schedule");

    long due = T0 + 86_400_000L;
    apply(rotate("sched", due, "k", due + 10_000, RotationReason.ROTATION_REASON_SCHEDULED));
    apply(
        at(
            due + 8_001,
            Command.newBuilder()
                .setCancelRotation(
                    CancelRotation.newBuilder()
                        .setName("k")
                        .setVersion(3)
                        .setOnlyIfUnvalidated(true))));
    assertEquals(
        due + 8_001 + 60_000, keys.get("k").getNextRotationTimeUnixMillis(), "retried in a minute");
  }

  @Test
  void recordActivation_emitsActivatedAndSupersededOnce() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0, "k", T0 + 10_000, RotationReason.ROTATION_REASON_MANUAL));
    for (String node : List.of("n1", "n2", "n3")) {
      ack(T0 + 10, "k", 2, node);
    }
    Command record =
        at(
            T0 + 10_500,
            Command.newBuilder()
                .setRecordActivation(RecordActivation.newBuilder().setName("k").setVersion(2)));

    Effects first = apply(record);
    Effects again = apply(at(T0 + 10_600, record.toBuilder()));

    assertEquals(
        List.of(
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED_VALUE,
            KeyEventType.KEY_EVENT_TYPE_SUPERSEDED_VALUE),
        eventTypes(first));
    assertTrue(again.events().isEmpty());
  }

  @Test
  void rotateKeysBatch_eachWithItsOwnCompareAndSet() {
    apply(create("a", T0, "a"));
    apply(create("b", T0, "b"));
    RotateKeys batch =
        RotateKeys.newBuilder()
            .addRotations(
                rotate("x", T0 + 1, "a", 0, RotationReason.ROTATION_REASON_SCHEDULED, 1)
                    .getRotateKey())
            .addRotations(
                rotate("y", T0 + 1, "a", 0, RotationReason.ROTATION_REASON_SCHEDULED, 1)
                    .getRotateKey())
            .addRotations(
                rotate("z", T0 + 1, "b", 0, RotationReason.ROTATION_REASON_SCHEDULED, 1)
                    .getRotateKey())
            .build();

    Effects effects = apply(at(T0 + 1, Command.newBuilder().setRotateKeys(batch)));

    assertEquals(2, effects.result().getVersion(), "two rotated");
    assertEquals(2, keys.get("a").getVersionsCount(), "the duplicate lost its compare-and-set");
    assertEquals(2, keys.get("b").getVersionsCount());
  }

  @Test
  void bulkRotation_marksMatchingKeysDueAndRecordsTheJob() {
    apply(create("a", T0, "a"));
    Command labelled =
        at(
            T0,
            Command.newBuilder()
                .setCreateKey(
                    CreateKey.newBuilder()
                        .setName("b")
                        .setZone("default")
                        .addLabels(Label.newBuilder().setKey("team").setValue("pay"))
                        .setKek(Commands.kek("default", "b"))));
    apply(labelled);
    Command start =
        at(
            T0 + 5,
            Command.newBuilder()
                .setStartBulkRotation(
                    StartBulkRotation.newBuilder()
                        .setJobId("job-1")
                        .addLabelSelector(Label.newBuilder().setKey("team").setValue("pay"))
                        .setReason(RotationReason.ROTATION_REASON_COMPROMISE_VALUE)));

    Effects started = apply(start);

    assertEquals(1, started.result().getVersion(), "one key matched");
    assertEquals("bulk:job-1", keys.get("b").getRotationRequestedBy());
    assertEquals(T0 + 5, keys.get("b").getNextRotationTimeUnixMillis());
    assertEquals("", keys.get("a").getRotationRequestedBy());
    assertEquals(1, started.bulkRotationWrite().orElseThrow().getTotal());
  }
}
