package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.SetDependents;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** SetDependents, and what a rotation asks of the dependents. */
class SetDependentsHandlerTest {
  private static final long T0 = 1_700_000_000_000L;
  private final InMemoryState view = new InMemoryState();
  private final Map<String, KeyRecord> keys = view.keyMap();

  @BeforeEach
  void threeNodesServeTheDefaultZone() {
    for (String id : List.of("n1", "n2", "n3")) {
      view.nodeMap().put(id, NodeRecord.newBuilder().setId(id).addZones("default").build());
    }
  }

  private Effects apply(Command command) {
    return view.apply(command);
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
}
