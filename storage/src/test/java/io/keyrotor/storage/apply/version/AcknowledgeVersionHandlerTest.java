package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** AcknowledgeVersion: the validation gate of a delayed rotation, driven by a manual clock. */
class AcknowledgeVersionHandlerTest {
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

  private KeyVersionState state(String name, int version, long time) {
    KeyRecord key = keys.get(name);
    return KeyVersions.stateAt(key, key.getVersions(version - 1), time);
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
  void delayedRotation_gatedUntilEveryServingNodeAcknowledges_thenPrimaryAtActivation() {
    apply(create("c", T0, "k"));
    Effects rotated =
        apply(rotate("r", T0 + 1, "k", T0 + 10_001, RotationReason.ROTATION_REASON_MANUAL));

    var v2 = keys.get("k").getVersions(1);
    assertEquals(List.of("n1", "n2", "n3"), v2.getRequiredAcknowledgersList());
    assertEquals(T0 + 10_001 - 2_000, v2.getValidationDeadlineUnixMillis(), "margin = delay / 5");
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_PENDING_VALUE), eventTypes(rotated));

    ack(T0 + 100, "k", 2, "n1");
    ack(T0 + 200, "k", 2, "n3");
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_PENDING, state("k", 2, T0 + 20_000), "n2 missing");
    assertEquals(1, KeyVersions.primaryVersionAt(keys.get("k"), T0 + 20_000));

    Effects last = ack(T0 + 300, "k", 2, "n2");

    assertEquals(T0 + 300, keys.get("k").getVersions(1).getValidatedTimeUnixMillis());
    assertTrue(last.result().getMessage().contains("validated"));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, state("k", 2, T0 + 10_000));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, T0 + 10_001));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, state("k", 1, T0 + 10_001));
  }

  @Test
  void acknowledgement_fromANodeThatDoesNotServeTheZone_refused() {
    view.nodeMap().put("us1", NodeRecord.newBuilder().setId("us1").addZones("us").build());
    apply(create("c", T0, "k"));
    apply(rotate("r", T0, "k", T0 + 5_000, RotationReason.ROTATION_REASON_MANUAL));

    Effects refused = ack(T0 + 1, "k", 2, "us1");

    assertEquals("NOT_A_VALIDATOR", refused.result().getReason());
    assertTrue(keys.get("k").getVersions(1).getAcknowledgedByList().isEmpty());
  }
}
