package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.CommandBodies.cancelDestroy;
import static io.keyrotor.storage.CommandBodies.destroyVersion;
import static io.keyrotor.storage.CommandBodies.scheduleDestroy;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.eventTypes;
import static io.keyrotor.storage.apply.InMemoryState.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ScheduleVersionDestroy, CancelVersionDestroy and DestroyVersion together: a version's way to
 * destruction.
 */
class VersionDestroyHandlersTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  @Test
  void destroy_scheduledCancelledAndExecutedOnlyWhenDue() {
    view.createAndRotateOnce("k");
    assertEquals("VERSION_IS_PRIMARY", reason(view.apply(T0 + 2, scheduleDestroy("k", 2, 1_000))));

    Effects scheduled = view.apply(T0 + 10, scheduleDestroy("k", 1, 5_000));
    assertEquals(Code.OK_VALUE, scheduled.result().getCode());
    assertEquals(T0 + 5_010, view.version("k", 1).getDestroyTimeUnixMillis());
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_DESTROY_SCHEDULED, view.stateAt("k", 1, T0 + 11));

    assertEquals("DESTROY_NOT_DUE", reason(view.apply(T0 + 5_000, destroyVersion("k", 1))));
    assertTrue(view.version("k", 1).hasKek());

    view.apply(T0 + 5_001, cancelDestroy("k", 1));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, view.stateAt("k", 1, T0 + 5_002));

    view.apply(T0 + 6_000, scheduleDestroy("k", 1, 10));
    Effects destroyed = view.apply(T0 + 7_000, destroyVersion("k", 1));
    assertEquals(Code.OK_VALUE, destroyed.result().getCode());
    assertFalse(view.version("k", 1).hasKek(), "the wrapped KEK is erased");
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DESTROYED, view.stateAt("k", 1, T0 + 7_000));
    assertEquals(List.of(KeyEventType.KEY_EVENT_TYPE_DESTROYED_VALUE), eventTypes(destroyed));
  }

  @Test
  void cancelDestroy_ofAVersionNotScheduledOrDestroyed_refusedWithWhatItIsNot() {
    view.createAndRotateOnce("k");
    assertEquals("DESTROY_NOT_SCHEDULED", reason(view.apply(T0 + 2, cancelDestroy("k", 1))));
    view.apply(T0 + 3, scheduleDestroy("k", 1, 0));
    assertEquals(Code.OK_VALUE, view.apply(T0 + 4, destroyVersion("k", 1)).result().getCode());

    Effects refused = view.apply(T0 + 5, cancelDestroy("k", 1));

    assertEquals(Code.FAILED_PRECONDITION_VALUE, refused.result().getCode());
    assertEquals("VERSION_DESTROYED", refused.result().getReason());
    assertEquals("version 1 of key \"k\" is destroyed already", refused.result().getMessage());
    assertEquals("VERSION_DESTROYED", reason(view.apply(T0 + 6, scheduleDestroy("k", 1, 0))));
    assertEquals(
        "DESTROY_NOT_DUE", reason(view.apply(T0 + 7, destroyVersion("k", 2))), "never scheduled");
  }
}
