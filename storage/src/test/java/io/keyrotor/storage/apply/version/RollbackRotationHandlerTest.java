package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** RollbackRotation: the previous version primary again. */
class RollbackRotationHandlerTest {
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

  @Test
  void rollback_previousVersionPrimaryAgainAndRolledBackOneStillDecrypts() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));

    Effects rolledBack =
        apply(
            at(
                T0 + 100,
                Command.newBuilder()
                    .setRollbackRotation(
                        RollbackRotation.newBuilder()
                            .setName("k")
                            .setVersion(2)
                            .setReason("bad deploy"))));

    assertEquals(Code.OK_VALUE, rolledBack.result().getCode());
    assertEquals(1, rolledBack.result().getVersion(), "the new primary");
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 1, T0 + 100));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, state("k", 2, T0 + 100));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, T0 + 99), "before it");
    assertEquals(
        List.of(
            KeyEventType.KEY_EVENT_TYPE_ROLLED_BACK_VALUE,
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED_VALUE),
        eventTypes(rolledBack));
  }

  @Test
  void rollback_ofANonPrimaryOrWithoutAFallback_refused() {
    apply(create("c", T0, "k"));
    Command rollbackFirst =
        at(
            T0 + 1,
            Command.newBuilder()
                .setRollbackRotation(RollbackRotation.newBuilder().setName("k").setVersion(1)));
    assertEquals("NO_PREVIOUS_VERSION", apply(rollbackFirst).result().getReason());
    apply(rotate("r", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));
    Command rollbackOld =
        at(
            T0 + 3,
            Command.newBuilder()
                .setRollbackRotation(RollbackRotation.newBuilder().setName("k").setVersion(1)));
    assertEquals("VERSION_NOT_PRIMARY", apply(rollbackOld).result().getReason());
  }
}
