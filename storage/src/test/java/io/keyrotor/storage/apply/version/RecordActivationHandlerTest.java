package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.CommandBodies.recordActivation;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RecordActivation: ACTIVATED and SUPERSEDED, once. */
class RecordActivationHandlerTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  @Test
  void recordActivation_emitsActivatedAndSupersededOnce() {
    view.apply(Commands.create("c", T0, "k"));
    view.apply(rotate("r", T0, "k", T0 + 10_000, RotationReason.ROTATION_REASON_MANUAL));
    view.allNodesAcknowledge(T0 + 10, "k", 2);

    Effects first = view.apply(T0 + 10_500, recordActivation("k", 2));
    Effects again = view.apply(T0 + 10_600, recordActivation("k", 2));

    assertEquals(
        List.of(
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED_VALUE,
            KeyEventType.KEY_EVENT_TYPE_SUPERSEDED_VALUE),
        eventTypes(first));
    assertTrue(again.events().isEmpty());
  }
}
