package io.keyrotor.storage.apply.version;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.Commands.setStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SetVersionStatus through the dispatcher, on an in-memory view without nodes. */
class SetVersionStatusHandlerTest {
  private static final long T0 = 1_700_000_000_000L;
  private final InMemoryState view = new InMemoryState();
  private final Map<String, KeyRecord> keys = view.keyMap();

  private Effects apply(Command command) {
    return view.apply(command);
  }

  private KeyVersionState state(String name, int version, long time) {
    KeyRecord key = keys.get(name);
    return KeyVersions.stateAt(key, key.getVersions(version - 1), time);
  }

  @Test
  void disableVersion_decryptOnly_disabledAndEnableRestoresIt() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));

    Effects disabled =
        apply(setStatus("r3", T0 + 2, "k", 1, VersionStatus.VERSION_STATUS_DISABLED));
    assertEquals(Code.OK_VALUE, disabled.result().getCode());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, state("k", 1, T0 + 2));
    assertFalse(KeyVersions.canDecrypt(keys.get("k"), keys.get("k").getVersions(0), T0 + 2));

    apply(setStatus("r4", T0 + 3, "k", 1, VersionStatus.VERSION_STATUS_ENABLED));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, state("k", 1, T0 + 3));
  }

  @Test
  void disableVersion_primary_refusedWithAdvice() {
    apply(create("r1", T0, "k"));

    Effects effects = apply(setStatus("r2", T0 + 1, "k", 1, VersionStatus.VERSION_STATUS_DISABLED));

    assertEquals(Code.FAILED_PRECONDITION_VALUE, effects.result().getCode());
    assertEquals("VERSION_IS_PRIMARY", effects.result().getReason());
    assertTrue(effects.result().getMessage().contains("rotate"));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 1, T0 + 1));
  }

  @Test
  void disableVersion_pending_disabledAndNeverBecomesPrimary() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1_000, RotationReason.ROTATION_REASON_MANUAL));

    apply(setStatus("r3", T0 + 2, "k", 2, VersionStatus.VERSION_STATUS_DISABLED));

    assertEquals(1, KeyVersions.primaryVersionAt(keys.get("k"), T0 + 10_000));
  }

  @Test
  void disableVersion_unknownVersionOrKey_notFound() {
    apply(create("r1", T0, "k"));

    assertEquals(
        "VERSION_NOT_FOUND",
        apply(setStatus("r2", T0, "k", 7, VersionStatus.VERSION_STATUS_DISABLED))
            .result()
            .getReason());
    assertEquals(
        "VERSION_NOT_FOUND",
        apply(setStatus("r3", T0, "k", 0, VersionStatus.VERSION_STATUS_DISABLED))
            .result()
            .getReason());
    assertEquals(
        "KEY_NOT_FOUND",
        apply(setStatus("r4", T0, "x", 1, VersionStatus.VERSION_STATUS_DISABLED))
            .result()
            .getReason());
  }

  @Test
  void disableVersion_alreadyDisabled_okWithoutChange() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    apply(setStatus("r3", T0 + 2, "k", 1, VersionStatus.VERSION_STATUS_DISABLED));
    long revision = keys.get("k").getRevision();

    Effects again = apply(setStatus("r4", T0 + 3, "k", 1, VersionStatus.VERSION_STATUS_DISABLED));

    assertEquals(Code.OK_VALUE, again.result().getCode());
    assertTrue(again.allKeyWrites().isEmpty());
    assertEquals(revision, keys.get("k").getRevision());
  }

  @Test
  void enableOrDisable_versionScheduledForDestructionDestroyedOrCancelled_refusedByTheLifecycle() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));
    apply(rotate("r3", T0 + 2, "k", T0 + 60_000, RotationReason.ROTATION_REASON_MANUAL));
    apply(
        InMemoryState.at(
            T0 + 3,
            Command.newBuilder()
                .setScheduleVersionDestroy(
                    ScheduleVersionDestroy.newBuilder().setName("k").setVersion(1))));
    apply(
        InMemoryState.at(
            T0 + 4,
            Command.newBuilder()
                .setCancelRotation(CancelRotation.newBuilder().setName("k").setVersion(3))));
    KeyRecord before = keys.get("k");

    Effects scheduled =
        apply(setStatus("r4", T0 + 5, "k", 1, VersionStatus.VERSION_STATUS_ENABLED));
    Effects cancelled =
        apply(setStatus("r5", T0 + 6, "k", 3, VersionStatus.VERSION_STATUS_DISABLED));

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
    assertEquals(before, keys.get("k"), "nothing changed");
  }
}
