package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RotateKey through the dispatcher: compare-and-set, pending versions, compromise rotations, gates
 * and due times. Tests that need validators register three nodes first.
 */
class RotateKeyHandlerTest {
  private static final long T0 = 1_700_000_000_000L;
  private final InMemoryState view = new InMemoryState();
  private final Map<String, KeyRecord> keys = view.keyMap();

  /** Three registered nodes serve the default zone: delayed rotations are gated on them. */
  private void threeNodesServeTheDefaultZone() {
    for (String id : List.of("n1", "n2", "n3")) {
      view.nodeMap().put(id, NodeRecord.newBuilder().setId(id).addZones("default").build());
    }
  }

  private Effects apply(Command command) {
    return view.apply(command);
  }

  private KeyVersionState state(String name, int version, long time) {
    KeyRecord key = keys.get(name);
    return KeyVersions.stateAt(key, key.getVersions(version - 1), time);
  }

  @Test
  void rotateKey_withDelay_newVersionPendingThenPrimaryAndOldDecryptOnly() {
    apply(create("r1", T0, "k"));

    Effects effects =
        apply(rotate("r2", T0 + 10, "k", T0 + 5_000, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals(Code.OK_VALUE, effects.result().getCode());
    assertEquals(2, effects.result().getVersion());
    assertEquals(T0 + 5_000, effects.result().getActivationTimeUnixMillis());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, state("k", 2, T0 + 4_999));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 1, T0 + 4_999));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, T0 + 5_000));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, state("k", 1, T0 + 5_000));
  }

  @Test
  void rotateKey_activationInThePast_clampedToCommandTime() {
    apply(create("r1", T0, "k"));

    apply(rotate("r2", T0 + 10, "k", T0 - 1_000, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals(T0 + 10, keys.get("k").getVersions(1).getActivationTimeUnixMillis());
  }

  @Test
  void rotateKey_unknownKey_notFound() {
    Effects effects = apply(rotate("r", T0, "nope", T0, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals(Code.NOT_FOUND_VALUE, effects.result().getCode());
    assertEquals("KEY_NOT_FOUND", effects.result().getReason());
  }

  @Test
  void rotateKey_staleExpectedVersion_versionConflict() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL, 1));

    Effects duplicate =
        apply(rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_SCHEDULED, 1));

    assertEquals(Code.FAILED_PRECONDITION_VALUE, duplicate.result().getCode());
    assertEquals("VERSION_CONFLICT", duplicate.result().getReason());
    assertEquals(2, keys.get("k").getVersionsCount());
  }

  @Test
  void rotateKey_whileAVersionIsPending_rotationPending() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 60_000, RotationReason.ROTATION_REASON_MANUAL));

    Effects second =
        apply(rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals("ROTATION_PENDING", second.result().getReason());
    assertEquals(2, keys.get("k").getVersionsCount());
  }

  @Test
  void rotateKey_compromise_activatesAtOnceAndDisablesPreviousPrimary() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));

    apply(rotate("r3", T0 + 2, "k", T0 + 60_000, RotationReason.ROTATION_REASON_COMPROMISE));

    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 3, T0 + 2));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, state("k", 2, T0 + 2));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, state("k", 1, T0 + 2));
  }

  @Test
  void compromiseAndImmediateRotations_notGated() {
    threeNodesServeTheDefaultZone();
    apply(create("c", T0, "k"));
    apply(rotate("r1", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    apply(rotate("r2", T0 + 2, "k", T0 + 9_999, RotationReason.ROTATION_REASON_COMPROMISE));

    assertEquals(0, keys.get("k").getVersions(1).getValidationDeadlineUnixMillis());
    assertEquals(0, keys.get("k").getVersions(2).getValidationDeadlineUnixMillis());
    assertEquals(3, KeyVersions.primaryVersionAt(keys.get("k"), T0 + 2));
  }

  @Test
  void schedule_nextRotationFollowsPeriodAnchorAndActivation() {
    threeNodesServeTheDefaultZone();
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
    threeNodesServeTheDefaultZone();
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
    threeNodesServeTheDefaultZone();
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
    threeNodesServeTheDefaultZone();
    createDaily("k", RotationPolicyRecord.newBuilder());
    long due = T0 + DAY;

    apply(scheduledRotation("sched", due + 250, 0, due, 1));

    assertEquals(due + 250, keys.get("k").getVersions(1).getActivationTimeUnixMillis());
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, due + 250), "active at once");
  }

  @Test
  void scheduledRotationForAnAnchor_stampedBeforeTheAnchor_usesItUpAndRotatesOnce() {
    threeNodesServeTheDefaultZone();
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
    threeNodesServeTheDefaultZone();
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
}
