package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** RotateKeys: a batch of rotations, each with its own compare-and-set. */
class RotateKeysHandlerTest {
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
}
