package io.keyrotor.storage;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.Commands.rotate;
import static io.keyrotor.storage.Commands.setStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TransitionsTest {
  private static final long T0 = 1_700_000_000_000L;
  private final Map<String, KeyRecord> keys = new HashMap<>();
  private final Transitions transitions = new Transitions(n -> Optional.ofNullable(keys.get(n)));
  private long index = 1;

  private Effects apply(Command command) {
    Effects effects = transitions.apply(command, index++, command.getProposedTimeUnixMillis());
    effects.keyWrite().ifPresent(k -> keys.put(k.getName(), k));
    return effects;
  }

  private KeyVersionState state(String name, int version, long time) {
    KeyRecord key = keys.get(name);
    return KeyVersions.stateAt(key, key.getVersions(version - 1), time);
  }

  @Test
  void createKey_newName_firstVersionPrimaryAtProposedTime() {
    Effects effects = apply(create("r1", T0, "payments"));

    assertEquals(Code.OK_VALUE, effects.result().getCode());
    assertEquals(1, effects.result().getVersion());
    KeyRecord key = keys.get("payments");
    assertEquals("default", key.getZone());
    assertEquals(T0, key.getVersions(0).getActivationTimeUnixMillis());
    assertEquals(1, KeyVersions.primaryVersionAt(key, T0));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("payments", 1, T0));
    assertEquals(1, key.getRevision());
  }

  @Test
  void createKey_existingName_alreadyExistsAndNothingChanges() {
    apply(create("r1", T0, "payments"));
    KeyRecord before = keys.get("payments");

    Effects effects = apply(create("r2", T0 + 5, "payments"));

    assertEquals(Code.ALREADY_EXISTS_VALUE, effects.result().getCode());
    assertEquals("KEY_EXISTS", effects.result().getReason());
    assertTrue(effects.keyWrite().isEmpty());
    assertEquals(before, keys.get("payments"));
  }

  @Test
  void createKey_invalidNameZoneOrLabels_invalidArgument() {
    for (String bad : new String[] {"", "-lead", "has space", "x".repeat(129), "ümlaut"}) {
      Effects effects = apply(create("r-" + bad, T0, bad));
      assertEquals(Code.INVALID_ARGUMENT_VALUE, effects.result().getCode(), bad);
      assertFalse(effects.result().getMessage().isEmpty());
      assertTrue(effects.keyWrite().isEmpty());
    }
    Command badZone =
        create("z", T0, "ok").toBuilder()
            .setCreateKey(
                create("z", T0, "ok").getCreateKey().toBuilder().setZone("Bad Zone").build())
            .build();
    assertEquals(Code.INVALID_ARGUMENT_VALUE, apply(badZone).result().getCode());
    CreateKey unsorted =
        create("l", T0, "ok").getCreateKey().toBuilder()
            .addLabels(Label.newBuilder().setKey("team").setValue("a"))
            .addLabels(Label.newBuilder().setKey("env").setValue("b"))
            .build();
    assertEquals(
        Code.INVALID_ARGUMENT_VALUE,
        apply(create("l", T0, "ok").toBuilder().setCreateKey(unsorted).build()).result().getCode());
    assertTrue(keys.isEmpty());
  }

  @Test
  void createKey_materialForAnotherZone_invalidArgument() {
    Command command = create("r1", T0, "k");
    Command wrongZone =
        command.toBuilder()
            .setCreateKey(
                command.getCreateKey().toBuilder().setKek(Commands.kek("eu", "x")).build())
            .build();

    Effects effects = apply(wrongZone);

    assertEquals(Code.INVALID_ARGUMENT_VALUE, effects.result().getCode());
    assertTrue(effects.result().getMessage().contains("zone"));
  }

  @Test
  void createKey_withActivationDelay_pendingUntilActivation() {
    apply(create("r1", T0, "k", T0 + 1_000));

    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, state("k", 1, T0 + 999));
    assertEquals(0, KeyVersions.primaryVersionAt(keys.get("k"), T0 + 999));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 1, T0 + 1_000));
  }

  @Test
  void rotateKey_withDelay_newVersionPendingThenPrimaryAndOldDecryptOnly() {
    apply(create("r1", T0, "k"));

    Effects effects =
        apply(rotate("r2", T0 + 10, "k", T0 + 5_000, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals(Code.OK_VALUE, effects.result().getCode());
    assertEquals(2, effects.result().getVersion());
    assertEquals(T0 + 5_000, effects.result().getActivationTimeUnixMillis());
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PENDING, state("k", 2, T0 + 4_999));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 1, T0 + 4_999));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 2, T0 + 5_000));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, state("k", 1, T0 + 5_000));
  }

  @Test
  void rotateKey_activationInThePast_clampedToCommandTime() {
    apply(create("r1", T0, "k"));

    apply(rotate("r2", T0 + 10, "k", T0 - 1_000, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals(T0 + 10, keys.get("k").getVersions(1).getActivationTimeUnixMillis());
  }

  @Test
  void rotateKey_unknownKey_notFound() {
    Effects effects = apply(rotate("r", T0, "nope", T0, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals(Code.NOT_FOUND_VALUE, effects.result().getCode());
    assertEquals("KEY_NOT_FOUND", effects.result().getReason());
  }

  @Test
  void rotateKey_staleExpectedVersion_versionConflict() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL, 1));

    Effects duplicate =
        apply(rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_SCHEDULED, 1));

    assertEquals(Code.FAILED_PRECONDITION_VALUE, duplicate.result().getCode());
    assertEquals("VERSION_CONFLICT", duplicate.result().getReason());
    assertEquals(2, keys.get("k").getVersionsCount());
  }

  @Test
  void rotateKey_whileAVersionIsPending_rotationPending() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 60_000, RotationReason.ROTATION_REASON_MANUAL));

    Effects second =
        apply(rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));

    assertEquals("ROTATION_PENDING", second.result().getReason());
    assertEquals(2, keys.get("k").getVersionsCount());
  }

  @Test
  void rotateKey_compromise_activatesAtOnceAndDisablesPreviousPrimary() {
    apply(create("r1", T0, "k"));
    apply(rotate("r2", T0 + 1, "k", T0 + 1, RotationReason.ROTATION_REASON_MANUAL));

    apply(rotate("r3", T0 + 2, "k", T0 + 60_000, RotationReason.ROTATION_REASON_COMPROMISE));

    assertEquals(KeyVersionState.KEY_VERSION_STATE_PRIMARY, state("k", 3, T0 + 2));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DISABLED, state("k", 2, T0 + 2));
    assertEquals(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, state("k", 1, T0 + 2));
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
    assertTrue(again.keyWrite().isEmpty());
    assertEquals(revision, keys.get("k").getRevision());
  }

  @Test
  void setRotationPolicy_negativePeriod_invalidPolicy() {
    apply(create("r1", T0, "k"));
    Command command =
        Command.newBuilder()
            .setProposedTimeUnixMillis(T0)
            .setSetRotationPolicy(
                SetRotationPolicy.newBuilder()
                    .setName("k")
                    .setPolicy(RotationPolicyRecord.newBuilder().setRotationPeriodMillis(-5)))
            .build();

    assertEquals("INVALID_POLICY", apply(command).result().getReason());
  }

  @Test
  void setRotationPolicy_valid_storedWithNewRevision() {
    apply(create("r1", T0, "k"));
    RotationPolicyRecord policy =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(86_400_000L).build();
    Command command =
        Command.newBuilder()
            .setProposedTimeUnixMillis(T0)
            .setSetRotationPolicy(SetRotationPolicy.newBuilder().setName("k").setPolicy(policy))
            .build();

    assertEquals(Code.OK_VALUE, apply(command).result().getCode());
    assertEquals(policy, keys.get("k").getPolicy());
    assertEquals(2, keys.get("k").getRevision());
  }
}
