package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import org.junit.jupiter.api.Test;

/** RotateKeys: a batch of rotations, each with its own compare-and-set. */
class RotateKeysHandlerTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  /** A scheduled rotation of {@code name} expecting version 1 to be its newest. */
  private static RotateKey scheduledFromVersion1(String requestId, String name) {
    return rotate(requestId, T0 + 1, name, 0, RotationReason.ROTATION_REASON_SCHEDULED, 1)
        .getRotateKey();
  }

  @Test
  void rotateKeysBatch_eachWithItsOwnCompareAndSet() {
    view.apply(Commands.create("a", T0, "a"));
    view.apply(Commands.create("b", T0, "b"));
    RotateKeys.Builder batch =
        RotateKeys.newBuilder()
            .addRotations(scheduledFromVersion1("x", "a"))
            .addRotations(scheduledFromVersion1("y", "a"))
            .addRotations(scheduledFromVersion1("z", "b"));

    Effects effects = view.apply(T0 + 1, batch);

    assertEquals(2, effects.result().getVersion(), "two rotated");
    assertEquals(2, view.key("a").getVersionsCount(), "the duplicate lost its compare-and-set");
    assertEquals(2, view.key("b").getVersionsCount());
  }
}
