package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.CommandBodies.createKey;
import static io.keyrotor.storage.CommandBodies.setRotationPolicy;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * RotateKey through the dispatcher: compare-and-set, pending versions, compromise rotations, gates
 * and due times. Tests that need validators register three nodes first.
 */
class RotateKeyHandlerTest {
  private static final long DAY = 86_400_000L;
  private final InMemoryState view = new InMemoryState();

  @Test
  void rotateKey_withDelay_newVersionPendingThenPrimaryAndOldDecryptOnly() {
    view.apply(Commands.create("r1", T0, "k"));

    Effects effects =
        view.apply(rotate("r2", T0 + 10, "k", T0 + 5_000, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals(Code.OK_VALUE, effects.result().getCode());
    assertEquals(2, effects.result().getVersion());
    assertEquals(T0 + 5_000, effects.result().getActivationTimeUnixMillis());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, view.stateAt("k", 2, T0 + 4_999));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 1, T0 + 4_999));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 2, T0 + 5_000));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, view.stateAt("k", 1, T0 + 5_000));
  }

  @Test
  void rotateKey_activationInThePast_clampedToCommandTime() {
    view.apply(Commands.create("r1", T0, "k"));

    view.apply(rotate("r2", T0 + 10, "k", T0 - 1_000, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals(T0 + 10, view.version("k", 2).getActivationTimeUnixMillis());
  }

  @Test
  void rotateKey_unknownKey_notFound() {
    Effects effects =
        view.apply(rotate("r", T0, "nope", T0, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals(Code.NOT_FOUND_VALUE, effects.result().getCode());
    assertEquals("KEY_NOT_FOUND", effects.result().getReason());
  }

  @Test
  void rotateKey_staleExpectedVersion_versionConflict() {
    view.apply(Commands.create("r1", T0, "k"));
    view.apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL, 1));

    Effects duplicate =
        view.apply(rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_SCHEDULED, 1));

    assertEquals(Code.FAILED_PRECONDITION_VALUE, duplicate.result().getCode());
    assertEquals("VERSION_CONFLICT", duplicate.result().getReason());
    assertEquals(2, view.key("k").getVersionsCount());
  }

  @Test
  void rotateKey_whileAVersionIsPending_rotationPending() {
    view.apply(Commands.create("r1", T0, "k"));
    view.apply(rotate("r2", T0 + 1, "k", T0 + 60_000, RotationReason.ROTATION_REASON_MANUAL));

    Effects second =
        view.apply(rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals("ROTATION_PENDING", second.result().getReason());
    assertEquals(2, view.key("k").getVersionsCount());
  }

  @Test
  void rotateKey_compromise_activatesAtOnceAndDisablesPreviousPrimary() {
    view.createAndRotateOnce("k");

    view.apply(rotate("r3", T0 + 2, "k", T0 + 60_000, RotationReason.ROTATION_REASON_COMPROMISE));

    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 3, T0 + 2));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, view.stateAt("k", 2, T0 + 2));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, view.stateAt("k", 1, T0 + 2));
  }

  @Test
  void compromiseAndImmediateRotations_notGated() {
    view.threeNodesServeTheDefaultZone();
    view.apply(Commands.create("c", T0, "k"));
    view.apply(rotate("r1", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    view.apply(rotate("r2", T0 + 2, "k", T0 + 9_999, RotationReason.ROTATION_REASON_COMPROMISE));

    assertEquals(0, view.version("k", 2).getValidationDeadlineUnixMillis());
    assertEquals(0, view.version("k", 3).getValidationDeadlineUnixMillis());
    assertEquals(3, view.primaryAt("k", T0 + 2));
  }

  @Test
  void schedule_nextRotationFollowsPeriodAnchorAndActivation() {
    view.threeNodesServeTheDefaultZone();
    RotationPolicyRecord daily =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(DAY).build();
    view.apply(T0, createKey("k").setPolicy(daily));
    assertEquals(T0 + DAY, view.key("k").getNextRotationTimeUnixMillis());

    view.apply(rotate("r", T0 + 1_000, "k", T0 + 3_000, RotationReason.ROTATION_REASON_SCHEDULED));
    assertEquals(T0 + 3_000 + DAY, view.key("k").getNextRotationTimeUnixMillis());

    view.apply(
        T0 + 4_000,
        setRotationPolicy("k", daily.toBuilder().setNextRotationTimeUnixMillis(T0 + 50_000)));
    assertEquals(T0 + 50_000, view.key("k").getNextRotationTimeUnixMillis(), "explicit anchor");
  }

  private void createDaily(String name, RotationPolicyRecord.Builder policy) {
    view.apply(T0, createKey(name).setPolicy(policy.setRotationPeriodMillis(DAY)));
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
    view.threeNodesServeTheDefaultZone();
    // Bug 2 of the chaos suite: the leader noticed the rotation due at `due`, then its clock
    // stepped back 1.5 s before the command was stamped.
    createDaily("k", RotationPolicyRecord.newBuilder());
    long due = view.key("k").getNextRotationTimeUnixMillis();
    assertEquals(T0 + DAY, due);
    long stamped = due - 1_500;

    Effects rotated = view.apply(scheduledRotation("sched", stamped, 0, due, 1));

    assertEquals(Code.OK_VALUE, rotated.result().getCode());
    KeyVersionRecord v2 = view.version("k", 2);
    assertEquals(due, v2.getActivationTimeUnixMillis(), "not the stamped time");
    assertEquals(due, rotated.result().getActivationTimeUnixMillis());
    assertEquals(stamped, v2.getCreateTimeUnixMillis(), "created when the command applied");
    assertTrue(v2.getRequiredAcknowledgersList().isEmpty(), "no delay asked: not gated");
    assertEquals(0, v2.getValidationDeadlineUnixMillis());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, view.stateAt("k", 2, due - 1));
    assertEquals(1, view.primaryAt("k", due - 1));
    assertEquals(2, view.primaryAt("k", due));
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_PENDING_VALUE), eventTypes(rotated));
    assertTrue(rotated.auditDetail().contains("due=" + due), rotated.auditDetail());
    assertEquals(due + DAY, view.key("k").getNextRotationTimeUnixMillis(), "no drift");
  }

  @Test
  void scheduledRotationWithDelay_stampedBeforeItsDueTime_activatesADelayAfterTheDueTime() {
    view.threeNodesServeTheDefaultZone();
    createDaily("k", RotationPolicyRecord.newBuilder().setActivationDelayMillis(10_000));
    long due = T0 + DAY;
    long stamped = due - 3_000;

    view.apply(scheduledRotation("sched", stamped, 10_000, due, 1));

    KeyVersionRecord v2 = view.version("k", 2);
    assertEquals(due + 10_000, v2.getActivationTimeUnixMillis());
    assertEquals(List.of("n1", "n2", "n3"), v2.getRequiredAcknowledgersList(), "gated as asked");
    assertEquals(due + 10_000 - 2_000, v2.getValidationDeadlineUnixMillis(), "margin = delay / 5");
    assertEquals(due + 10_000 + DAY, view.key("k").getNextRotationTimeUnixMillis());
  }

  @Test
  void scheduledRotation_stampedAfterItsDueTime_activatesAtTheStampedTime() {
    view.threeNodesServeTheDefaultZone();
    createDaily("k", RotationPolicyRecord.newBuilder());
    long due = T0 + DAY;

    view.apply(scheduledRotation("sched", due + 250, 0, due, 1));

    assertEquals(due + 250, view.version("k", 2).getActivationTimeUnixMillis());
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_PRIMARY,
        view.stateAt("k", 2, due + 250),
        "active at once");
  }

  @Test
  void scheduledRotationForAnAnchor_stampedBeforeTheAnchor_usesItUpAndRotatesOnce() {
    view.threeNodesServeTheDefaultZone();
    long anchor = T0 + 50_000;
    createDaily("k", RotationPolicyRecord.newBuilder().setNextRotationTimeUnixMillis(anchor));
    assertEquals(anchor, view.key("k").getNextRotationTimeUnixMillis());

    view.apply(scheduledRotation("sched", anchor - 1_500, 0, anchor, 1));

    assertEquals(anchor, view.version("k", 2).getActivationTimeUnixMillis());
    assertEquals(0, view.key("k").getPolicy().getNextRotationTimeUnixMillis(), "anchor used");
    assertEquals(
        anchor + DAY,
        view.key("k").getNextRotationTimeUnixMillis(),
        "not due again at the anchor, right after it activates");
  }

  @Test
  void compromiseRotationWithADueTime_stillActivatesAtOnce() {
    view.threeNodesServeTheDefaultZone();
    createDaily("k", RotationPolicyRecord.newBuilder());
    long due = T0 + DAY;
    Command.Builder compromise =
        rotate("c", due - 1_500, "k", due - 1_500, RotationReason.ROTATION_REASON_COMPROMISE, 1)
            .toBuilder();
    compromise.getRotateKeyBuilder().setDueTimeUnixMillis(due);

    view.apply(compromise.build());

    assertEquals(due - 1_500, view.version("k", 2).getActivationTimeUnixMillis());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, view.stateAt("k", 1, due - 1_500));
  }
}
