package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.CommandBodies.createKey;
import static io.keyrotor.storage.CommandBodies.label;
import static io.keyrotor.storage.CommandBodies.startBulkRotation;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import org.junit.jupiter.api.Test;

/** StartBulkRotation: the job and the keys it marks due. */
class StartBulkRotationHandlerTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  @Test
  void bulkRotation_marksMatchingKeysDueAndRecordsTheJob() {
    view.apply(Commands.create("a", T0, "a"));
    view.apply(T0, createKey("b").addLabels(label("team", "pay")));

    Effects started =
        view.apply(
            T0 + 5,
            startBulkRotation("job-1", "", label("team", "pay"))
                .setReason(RotationReason.ROTATION_REASON_COMPROMISE_VALUE));

    assertEquals(1, started.result().getVersion(), "one key matched");
    assertEquals("bulk:job-1", view.key("b").getRotationRequestedBy());
    assertEquals(T0 + 5, view.key("b").getNextRotationTimeUnixMillis());
    assertEquals("", view.key("a").getRotationRequestedBy());
    assertEquals(1, started.bulkRotationWrite().orElseThrow().getTotal());
  }
}
