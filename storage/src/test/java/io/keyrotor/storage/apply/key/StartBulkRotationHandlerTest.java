package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** StartBulkRotation: the job and the keys it marks due. */
class StartBulkRotationHandlerTest {
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
  void bulkRotation_marksMatchingKeysDueAndRecordsTheJob() {
    apply(create("a", T0, "a"));
    Command labelled =
        at(
            T0,
            Command.newBuilder()
                .setCreateKey(
                    CreateKey.newBuilder()
                        .setName("b")
                        .setZone("default")
                        .addLabels(Label.newBuilder().setKey("team").setValue("pay"))
                        .setKek(Commands.kek("default", "b"))));
    apply(labelled);
    Command start =
        at(
            T0 + 5,
            Command.newBuilder()
                .setStartBulkRotation(
                    StartBulkRotation.newBuilder()
                        .setJobId("job-1")
                        .addLabelSelector(Label.newBuilder().setKey("team").setValue("pay"))
                        .setReason(RotationReason.ROTATION_REASON_COMPROMISE_VALUE)));

    Effects started = apply(start);

    assertEquals(1, started.result().getVersion(), "one key matched");
    assertEquals("bulk:job-1", keys.get("b").getRotationRequestedBy());
    assertEquals(T0 + 5, keys.get("b").getNextRotationTimeUnixMillis());
    assertEquals("", keys.get("a").getRotationRequestedBy());
    assertEquals(1, started.bulkRotationWrite().orElseThrow().getTotal());
  }
}
