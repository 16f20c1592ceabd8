package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ScheduleVersionDestroy, CancelVersionDestroy and DestroyVersion together: a version's way to
 * destruction.
 */
class VersionDestroyHandlersTest {
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
  void destroy_scheduledCancelledAndExecutedOnlyWhenDue() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    Command scheduleV2 =
        at(
            T0 + 2,
            Command.newBuilder()
                .setScheduleVersionDestroy(
                    ScheduleVersionDestroy.newBuilder()
                        .setName("k")
                        .setVersion(2)
                        .setWaitingPeriodMillis(1_000)));
    assertEquals("VERSION_IS_PRIMARY", apply(scheduleV2).result().getReason());

    Effects scheduled =
        apply(
            at(
                T0 + 10,
                Command.newBuilder()
                    .setScheduleVersionDestroy(
                        ScheduleVersionDestroy.newBuilder()
                            .setName("k")
                            .setVersion(1)
                            .setWaitingPeriodMillis(5_000))));
    assertEquals(Code.OK_VALUE, scheduled.result().getCode());
    assertEquals(T0 + 5_010, keys.get("k").getVersions(0).getDestroyTimeUnixMillis());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DESTROY_SCHEDULED, state("k", 1, T0 + 11));

    Command early =
        at(
            T0 + 5_000,
            Command.newBuilder()
                .setDestroyVersion(DestroyVersion.newBuilder().setName("k").setVersion(1)));
    assertEquals("DESTROY_NOT_DUE", apply(early).result().getReason());
    assertTrue(keys.get("k").getVersions(0).hasKek());

    apply(
        at(
            T0 + 5_001,
            Command.newBuilder()
                .setCancelVersionDestroy(
                    CancelVersionDestroy.newBuilder().setName("k").setVersion(1))));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, state("k", 1, T0 + 5_002));

    apply(
        at(
            T0 + 6_000,
            Command.newBuilder()
                .setScheduleVersionDestroy(
                    ScheduleVersionDestroy.newBuilder()
                        .setName("k")
                        .setVersion(1)
                        .setWaitingPeriodMillis(10))));
    Effects destroyed =
        apply(
            at(
                T0 + 7_000,
                Command.newBuilder()
                    .setDestroyVersion(DestroyVersion.newBuilder().setName("k").setVersion(1))));
    assertEquals(Code.OK_VALUE, destroyed.result().getCode());
    assertFalse(keys.get("k").getVersions(0).hasKek(), "the wrapped KEK is erased");
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DESTROYED, state("k", 1, T0 + 7_000));
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_DESTROYED_VALUE), eventTypes(destroyed));
  }

  @Test
  void cancelDestroy_ofAVersionNotScheduledOrDestroyed_refusedWithWhatItIsNot() {
    apply(create("c", T0, "k"));
    apply(rotate("r", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    Command cancelV1 =
        at(
            T0 + 2,
            Command.newBuilder()
                .setCancelVersionDestroy(
                    CancelVersionDestroy.newBuilder().setName("k").setVersion(1)));
    assertEquals("DESTROY_NOT_SCHEDULED", apply(cancelV1).result().getReason());
    apply(
        at(
            T0 + 3,
            Command.newBuilder()
                .setScheduleVersionDestroy(
                    ScheduleVersionDestroy.newBuilder().setName("k").setVersion(1))));
    Command destroyV1 =
        at(
            T0 + 4,
            Command.newBuilder()
                .setDestroyVersion(DestroyVersion.newBuilder().setName("k").setVersion(1)));
    assertEquals(Code.OK_VALUE, apply(destroyV1).result().getCode());

    Effects refused = apply(at(T0 + 5, cancelV1.toBuilder()));

    assertEquals(Code.FAILED_PRECONDITION_VALUE, refused.result().getCode());
    assertEquals("VERSION_DESTROYED", refused.result().getReason());
    assertEquals("version 1 of key \"k\" is destroyed already", refused.result().getMessage());
    Command scheduleAgain =
        at(
            T0 + 6,
            Command.newBuilder()
                .setScheduleVersionDestroy(
                    ScheduleVersionDestroy.newBuilder().setName("k").setVersion(1)));
    assertEquals("VERSION_DESTROYED", apply(scheduleAgain).result().getReason());
    Command destroyV2 =
        at(
            T0 + 7,
            Command.newBuilder()
                .setDestroyVersion(DestroyVersion.newBuilder().setName("k").setVersion(2)));
    assertEquals("DESTROY_NOT_DUE", apply(destroyV2).result().getReason(), "never scheduled");
  }
}
