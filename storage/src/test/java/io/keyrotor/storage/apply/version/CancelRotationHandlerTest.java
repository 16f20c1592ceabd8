package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.CommandBodies.acknowledge;
import static io.keyrotor.storage.CommandBodies.cancelRotation;
import static io.keyrotor.storage.CommandBodies.createKey;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CancelRotation: a missed validation gate, an operator abort, and the schedule afterwards. */
class CancelRotationHandlerTest {
  private static final long DAY = 86_400_000L;
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  @Test
  void missedValidationDeadline_versionNeverPrimaryAndCancelKeepsPreviousPrimary() {
    view.apply(Commands.create("c", T0, "k"));
    view.apply(rotate("r", T0, "k", T0 + 10_000, RotationReason.ROTATION_REASON_MANUAL));
    view.apply(T0 + 100, acknowledge("k", 2, "n1"));
    view.apply(T0 + 100, acknowledge("k", 2, "n2"));
    view.apply(T0 + 9_000, acknowledge("k", 2, "n3")); // after the deadline (T0 + 8000): too late

    assertEquals(1, view.primaryAt("k", T0 + 60_000));
    Effects cancelled =
        view.apply(T0 + 8_001, cancelRotation("k", 2, "validation gate: n3 late", true));

    assertEquals(Code.OK_VALUE, cancelled.result().getCode());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_CANCELLED, view.stateAt("k", 2, T0 + 60_000));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 1, T0 + 60_000));
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_CANCELLED_VALUE), eventTypes(cancelled));
    // A new rotation may start again right away.
    Effects again =
        view.apply(
            rotate("r2", T0 + 8_002, "k", T0 + 8_002, RotationReason.ROTATION_REASON_MANUAL));
    assertEquals(3, again.result().getVersion());
  }

  @Test
  void cancelOnlyIfUnvalidated_validatedVersion_refusedAndUnchanged() {
    view.apply(Commands.create("c", T0, "k"));
    view.apply(rotate("r", T0, "k", T0 + 10_000, RotationReason.ROTATION_REASON_MANUAL));
    view.allNodesAcknowledge(T0 + 10, "k", 2);

    Effects refused = view.apply(T0 + 8_001, cancelRotation("k", 2, "", true));

    assertEquals("VERSION_VALIDATED", refused.result().getReason());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 2, T0 + 10_000));
  }

  @Test
  void cancellingAManualRotation_restoresTheSchedule_aFailedScheduledOneRetriesSoon() {
    view.apply(
        T0,
        createKey("k").setPolicy(RotationPolicyRecord.newBuilder().setRotationPeriodMillis(DAY)));
    view.apply(
        rotate("manual", T0 + 1_000, "k", T0 + 11_000, RotationReason.ROTATION_REASON_MANUAL));
    view.apply(T0 + 2_000, cancelRotation("k", 2, "", false));
    assertEquals(T0 + DAY, view.key("k").getNextRotationTimeUnixMillis(), "the original schedule");

    long due = T0 + DAY;
    view.apply(rotate("sched", due, "k", due + 10_000, RotationReason.ROTATION_REASON_SCHEDULED));
    view.apply(due + 8_001, cancelRotation("k", 3, "", true));
    assertEquals(
        due + 8_001 + 60_000, view.key("k").getNextRotationTimeUnixMillis(), "retried in a minute");
  }
}
