package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.CommandBodies.acknowledge;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** AcknowledgeVersion: the validation gate of a delayed rotation, driven by a manual clock. */
class AcknowledgeVersionHandlerTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  @Test
  void delayedRotation_gatedUntilEveryServingNodeAcknowledges_thenPrimaryAtActivation() {
    view.apply(Commands.create("c", T0, "k"));
    Effects rotated =
        view.apply(rotate("r", T0 + 1, "k", T0 + 10_001, RotationReason.ROTATION_REASON_MANUAL));

    KeyVersionRecord v2 = view.version("k", 2);
    assertEquals(List.of("n1", "n2", "n3"), v2.getRequiredAcknowledgersList());
    assertEquals(T0 + 10_001 - 2_000, v2.getValidationDeadlineUnixMillis(), "margin = delay / 5");
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_PENDING_VALUE), eventTypes(rotated));

    view.apply(T0 + 100, acknowledge("k", 2, "n1"));
    view.apply(T0 + 200, acknowledge("k", 2, "n3"));
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_PENDING, view.stateAt("k", 2, T0 + 20_000), "n2 missing");
    assertEquals(1, view.primaryAt("k", T0 + 20_000));

    Effects last = view.apply(T0 + 300, acknowledge("k", 2, "n2"));

    assertEquals(T0 + 300, view.version("k", 2).getValidatedTimeUnixMillis());
    assertTrue(last.result().getMessage().contains("validated"));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, view.stateAt("k", 2, T0 + 10_000));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 2, T0 + 10_001));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, view.stateAt("k", 1, T0 + 10_001));
  }

  @Test
  void acknowledgement_fromANodeThatDoesNotServeTheZone_refused() {
    view.nodesServe("us", "us1");
    view.apply(Commands.create("c", T0, "k"));
    view.apply(rotate("r", T0, "k", T0 + 5_000, RotationReason.ROTATION_REASON_MANUAL));

    Effects refused = view.apply(T0 + 1, acknowledge("k", 2, "us1"));

    assertEquals("NOT_A_VALIDATOR", refused.result().getReason());
    assertTrue(view.version("k", 2).getAcknowledgedByList().isEmpty());
  }
}
