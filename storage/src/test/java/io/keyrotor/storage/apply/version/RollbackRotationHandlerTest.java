package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.CommandBodies.rollbackRotation;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static io.keyrotor.storage.apply.InMemoryState.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RollbackRotation: the previous version primary again. */
class RollbackRotationHandlerTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  @Test
  void rollback_previousVersionPrimaryAgainAndRolledBackOneStillDecrypts() {
    view.createAndRotateOnce("k");

    Effects rolledBack = view.apply(T0 + 100, rollbackRotation("k", 2, "bad deploy"));

    assertEquals(Code.OK_VALUE, rolledBack.result().getCode());
    assertEquals(1, rolledBack.result().getVersion(), "the new primary");
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 1, T0 + 100));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, view.stateAt("k", 2, T0 + 100));
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 2, T0 + 99), "before it");
    assertEquals(
        List.of(
            KeyEventType.KEY_EVENT_TYPE_ROLLED_BACK_VALUE,
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED_VALUE),
        eventTypes(rolledBack));
  }

  @Test
  void rollback_ofANonPrimaryOrWithoutAFallback_refused() {
    view.apply(Commands.create("c", T0, "k"));
    assertEquals("NO_PREVIOUS_VERSION", reason(view.apply(T0 + 1, rollbackRotation("k", 1, ""))));
    view.apply(rotate("r", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));
    assertEquals("VERSION_NOT_PRIMARY", reason(view.apply(T0 + 3, rollbackRotation("k", 1, ""))));
  }
}
