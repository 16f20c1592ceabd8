package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.CommandBodies.setVersionFloors;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import org.junit.jupiter.api.Test;

/** SetVersionFloors: floors and the versions a raised floor disables. */
class SetVersionFloorsHandlerTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  @Test
  void raisingTheDecryptionFloor_disablesOlderVersions_notThePrimary() {
    view.createAndRotateOnce("k");
    view.apply(rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));

    Effects tooHigh = view.apply(T0 + 3, setVersionFloors("k", 4, 0));
    assertEquals("INVALID_VERSION", tooHigh.result().getReason());
    Effects raised = view.apply(T0 + 4, setVersionFloors("k", 3, 0));

    assertEquals(Code.OK_VALUE, raised.result().getCode());
    assertEquals(VersionStatus.VERSION_STATUS_DISABLED, view.version("k", 1).getStatus());
    assertEquals(VersionStatus.VERSION_STATUS_DISABLED, view.version("k", 2).getStatus());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 3, T0 + 4));
  }
}
