package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** RecordActivation: ACTIVATED and SUPERSEDED, once. */
class RecordActivationHandlerTest {
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

  private Effects ack(long time, String name, int version, String node) {
    return apply(
        at(
            time,
            Command.newBuilder()
                .setAcknowledgeVersion(
                    AcknowledgeVersion.newBuilder()
                        .setName(name)
                        .setVersion(version)
                        .setNode(node))));
  }

  @Test
  void recordActivation_emitsActivatedAndSupersededOnce() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0, "k", T0 + 10_000, RotationReason.ROTATION_REASON_MANUAL));
    for (String node : List.of("n1", "n2", "n3")) {
      ack(T0 + 10, "k", 2, node);
    }
    Command record =
        at(
            T0 + 10_500,
            Command.newBuilder()
                .setRecordActivation(RecordActivation.newBuilder().setName("k").setVersion(2)));

    Effects first = apply(record);
    Effects again = apply(at(T0 + 10_600, record.toBuilder()));

    assertEquals(
        List.of(
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED_VALUE,
            KeyEventType.KEY_EVENT_TYPE_SUPERSEDED_VALUE),
        eventTypes(first));
    assertTrue(again.events().isEmpty());
  }
}
