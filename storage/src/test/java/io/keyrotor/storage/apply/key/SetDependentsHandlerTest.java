package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.CommandBodies.setDependents;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SetDependents, and what a rotation asks of the dependents. */
class SetDependentsHandlerTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  @Test
  void dependents_cycleRefusedAndRotationAsksDependentsToRotate() {
    for (String name : List.of("root", "mid", "leaf")) {
      view.apply(Commands.create("c-" + name, T0, name));
    }
    assertEquals(
        Code.OK_VALUE, view.apply(T0 + 1, setDependents("root", "mid")).result().getCode());
    assertEquals(
        Code.OK_VALUE, view.apply(T0 + 2, setDependents("mid", "leaf")).result().getCode());
    Effects refused = view.apply(T0 + 3, setDependents("leaf", "root"));
    assertEquals("DEPENDENCY_CYCLE", refused.result().getReason());
    assertTrue(
        refused.result().getMessage().contains("leaf -> root -> mid -> leaf"),
        refused.result().getMessage());
    assertEquals("DEPENDENT_NOT_FOUND", reason(view.apply(T0 + 4, setDependents("leaf", "nope"))));

    view.apply(rotate("r", T0 + 10, "root", T0 + 10, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals("root", view.key("mid").getRotationRequestedBy());
    assertEquals(
        RotationReason.ROTATION_REASON_DEPENDENCY_VALUE,
        view.key("mid").getRotationRequestedReason());
    assertEquals(T0 + 10, view.key("mid").getNextRotationTimeUnixMillis(), "due now");
    assertEquals("", view.key("leaf").getRotationRequestedBy(), "after mid rotates, not before");
    view.apply(rotate("r-mid", T0 + 20, "mid", T0 + 20, RotationReason.ROTATION_REASON_DEPENDENCY));
    assertEquals("", view.key("mid").getRotationRequestedBy(), "cleared when it rotated");
    assertEquals("mid", view.key("leaf").getRotationRequestedBy());
  }
}
