package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.SetVersionFloors;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** SetVersionFloors: floors and the versions a raised floor disables. */
class SetVersionFloorsHandlerTest {
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
  void raisingTheDecryptionFloor_disablesOlderVersions_notThePrimary() {
    apply(create("c", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    apply(rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));

    Command tooHigh =
        at(
            T0 + 3,
            Command.newBuilder()
                .setSetVersionFloors(
                    SetVersionFloors.newBuilder().setName("k").setMinDecryptionVersion(4)));
    assertEquals("INVALID_VERSION", apply(tooHigh).result().getReason());
    Effects raised =
        apply(
            at(
                T0 + 4,
                Command.newBuilder()
                    .setSetVersionFloors(
                        SetVersionFloors.newBuilder().setName("k").setMinDecryptionVersion(3))));

    assertEquals(Code.OK_VALUE, raised.result().getCode());
    assertEquals(VersionStatus.VERSION_STATUS_DISABLED, keys.get("k").getVersions(0).getStatus());
    assertEquals(VersionStatus.VERSION_STATUS_DISABLED, keys.get("k").getVersions(1).getStatus());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 3, T0 + 4));
  }
}
