package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.CommandBodies.cancelRotation;
import static io.keyrotor.storage.CommandBodies.scheduleDestroy;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.Commands.setStatus;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import org.junit.jupiter.api.Test;

/** SetVersionStatus through the dispatcher, on an in-memory view without nodes. */
class SetVersionStatusHandlerTest {
  private final InMemoryState view = new InMemoryState();

  @Test
  void disableVersion_decryptOnly_disabledAndEnableRestoresIt() {
    view.createAndRotateOnce("k");

    Effects disabled =
        view.apply(setStatus("r3", T0 + 2, "k", 1, VersionStatus.VERSION_STATUS_DISABLED));
    assertEquals(Code.OK_VALUE, disabled.result().getCode());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, view.stateAt("k", 1, T0 + 2));
    assertFalse(KeyVersions.canDecrypt(view.key("k"), view.version("k", 1), T0 + 2));

    view.apply(setStatus("r4", T0 + 3, "k", 1, VersionStatus.VERSION_STATUS_ENABLED));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, view.stateAt("k", 1, T0 + 3));
  }

  @Test
  void disableVersion_primary_refusedWithAdvice() {
    view.apply(Commands.create("r1", T0, "k"));

    Effects effects =
        view.apply(setStatus("r2", T0 + 1, "k", 1, VersionStatus.VERSION_STATUS_DISABLED));

    assertEquals(Code.FAILED_PRECONDITION_VALUE, effects.result().getCode());
    assertEquals("VERSION_IS_PRIMARY", effects.result().getReason());
    assertTrue(effects.result().getMessage().contains("rotate"));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, view.stateAt("k", 1, T0 + 1));
  }

  @Test
  void disableVersion_pending_disabledAndNeverBecomesPrimary() {
    view.apply(Commands.create("r1", T0, "k"));
    view.apply(rotate("r2", T0 + 1, "k", T0 + 1_000, RotationReason.ROTATION_REASON_MANUAL));

    view.apply(setStatus("r3", T0 + 2, "k", 2, VersionStatus.VERSION_STATUS_DISABLED));

    assertEquals(1, view.primaryAt("k", T0 + 10_000));
  }

  @Test
  void disableVersion_unknownVersionOrKey_notFound() {
    view.apply(Commands.create("r1", T0, "k"));

    assertEquals(
        "VERSION_NOT_FOUND",
        reason(view.apply(setStatus("r2", T0, "k", 7, VersionStatus.VERSION_STATUS_DISABLED))));
    assertEquals(
        "VERSION_NOT_FOUND",
        reason(view.apply(setStatus("r3", T0, "k", 0, VersionStatus.VERSION_STATUS_DISABLED))));
    assertEquals(
        "KEY_NOT_FOUND",
        reason(view.apply(setStatus("r4", T0, "x", 1, VersionStatus.VERSION_STATUS_DISABLED))));
  }

  @Test
  void disableVersion_alreadyDisabled_okWithoutChange() {
    view.createAndRotateOnce("k");
    view.apply(setStatus("r3", T0 + 2, "k", 1, VersionStatus.VERSION_STATUS_DISABLED));
    long revision = view.key("k").getRevision();

    Effects again =
        view.apply(setStatus("r4", T0 + 3, "k", 1, VersionStatus.VERSION_STATUS_DISABLED));

    assertEquals(Code.OK_VALUE, again.result().getCode());
    assertTrue(again.allKeyWrites().isEmpty());
    assertEquals(revision, view.key("k").getRevision());
  }

  @Test
  void enableOrDisable_versionScheduledForDestructionDestroyedOrCancelled_refusedByTheLifecycle() {
    view.createAndRotateOnce("k");
    view.apply(rotate("r3", T0 + 2, "k", T0 + 60_000, RotationReason.ROTATION_REASON_MANUAL));
    view.apply(T0 + 3, scheduleDestroy("k", 1, 0));
    view.apply(T0 + 4, cancelRotation("k", 3, "", false));
    KeyRecord before = view.key("k");

    Effects scheduled =
        view.apply(setStatus("r4", T0 + 5, "k", 1, VersionStatus.VERSION_STATUS_ENABLED));
    Effects cancelled =
        view.apply(setStatus("r5", T0 + 6, "k", 3, VersionStatus.VERSION_STATUS_DISABLED));

    assertEquals(Code.FAILED_PRECONDITION_VALUE, scheduled.result().getCode());
    assertEquals("VERSION_DESTROY_SCHEDULED", scheduled.result().getReason());
    assertEquals(
        "version 1 of key \"k\" is destroy scheduled and cannot be enabled (cancel the destroy"
            + " first)",
        scheduled.result().getMessage());
    assertEquals("VERSION_CANCELLED", cancelled.result().getReason());
    assertEquals(
        "version 3 of key \"k\" is cancelled and cannot be disabled",
        cancelled.result().getMessage());
    assertEquals(before, view.key("k"), "nothing changed");
  }
}
