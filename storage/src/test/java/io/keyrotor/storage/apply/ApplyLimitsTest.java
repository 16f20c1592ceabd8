package io.keyrotor.storage.apply;

import static io.keyrotor.storage.apply.InMemoryState.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.CommandBodies;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.Limits;
import org.junit.jupiter.api.Test;

/**
 * Apply refuses what would grow the state past its {@link Limits}, as a result that writes nothing,
 * whatever the server let through (requests racing on several nodes, or a proposer with other
 * settings).
 */
class ApplyLimitsTest {
  private static final int REASON_BYTES = 16;

  private final InMemoryState view = new InMemoryState(new Limits(3, 2, 2, REASON_BYTES, 100));

  @Test
  void createKey_beyondKeysPerZone_resourceExhaustedAndNothingWritten() {
    assertOk(view.apply(Commands.create("a", T0, "a")));
    assertOk(view.apply(Commands.create("b", T0, "b")));

    Effects refused = view.apply(Commands.create("c", T0, "c"));

    assertRefused(refused, Code.RESOURCE_EXHAUSTED, "TOO_MANY_KEYS_IN_ZONE");
    assertTrue(refused.events().isEmpty());
    assertEquals(2, view.keyMap().size());
    // Another zone still has room.
    assertOk(view.apply(Commands.inZone(Commands.create("d", T0, "d"), "eu")));
  }

  @Test
  void createKey_beyondKeysPerCluster_resourceExhaustedAndNothingWritten() {
    assertOk(view.apply(Commands.create("a", T0, "a")));
    assertOk(view.apply(Commands.inZone(Commands.create("b", T0, "b"), "eu")));
    assertOk(view.apply(Commands.inZone(Commands.create("c", T0, "c"), "us")));

    Effects refused = view.apply(Commands.inZone(Commands.create("d", T0, "d"), "ap"));

    assertRefused(refused, Code.RESOURCE_EXHAUSTED, "TOO_MANY_KEYS");
    assertEquals(3, view.keyMap().size());
  }

  @Test
  void rotateKey_beyondVersionsPerKey_refusedAndNothingWritten() {
    view.createAndRotateOnce("k");
    KeyRecord before = view.key("k");

    Effects refused =
        view.apply(
            Commands.rotate("r3", T0 + 2, "k", T0 + 2, RotationReason.ROTATION_REASON_MANUAL));

    assertRefused(refused, Code.FAILED_PRECONDITION, "TOO_MANY_VERSIONS");
    assertEquals(before, view.key("k"));
  }

  @Test
  void cancelRotation_reasonOverTheLimit_invalidArgumentAndVersionStaysPending() {
    view.apply(Commands.create("c", T0, "k"));
    view.apply(
        Commands.rotate("r", T0 + 1, "k", T0 + 600_000, RotationReason.ROTATION_REASON_MANUAL));
    KeyRecord before = view.key("k");
    // 9 two-byte characters: 18 bytes, over a limit of 16 that 9 characters would fit.
    String tooLong = "é".repeat(9);

    Effects refused = view.apply(T0 + 2, CommandBodies.cancelRotation("k", 2, tooLong, false));

    assertRefused(refused, Code.INVALID_ARGUMENT, "REQUEST_TOO_LARGE");
    assertTrue(refused.events().isEmpty());
    assertEquals(before, view.key("k"));
    assertOk(view.apply(T0 + 3, CommandBodies.cancelRotation("k", 2, "é".repeat(8), false)));
    assertEquals(VersionStatus.VERSION_STATUS_CANCELLED, view.version("k", 2).getStatus());
  }

  @Test
  void rollbackRotation_reasonOverTheLimit_invalidArgumentAndPrimaryUnchanged() {
    view.createAndRotateOnce("k");
    KeyRecord before = view.key("k");

    Effects refused =
        view.apply(T0 + 2, CommandBodies.rollbackRotation("k", 2, "x".repeat(REASON_BYTES + 1)));

    assertRefused(refused, Code.INVALID_ARGUMENT, "REQUEST_TOO_LARGE");
    assertEquals(before, view.key("k"));
    assertOk(view.apply(T0 + 3, CommandBodies.rollbackRotation("k", 2, "x".repeat(REASON_BYTES))));
    assertEquals(1, view.primaryAt("k", T0 + 3));
  }

  @Test
  void ceilings_areWhatEveryReplicaApplies() {
    assertEquals(new Limits(1_000_000, 1_000_000, 10_000, 1_024, 1_000_000), Limits.CEILINGS);
  }

  private static void assertOk(Effects effects) {
    assertEquals(Code.OK_VALUE, effects.result().getCode(), effects.result().getMessage());
  }

  private static void assertRefused(Effects effects, Code code, String reason) {
    assertEquals(code.getNumber(), effects.result().getCode(), effects.result().getMessage());
    assertEquals(reason, effects.result().getReason());
    assertTrue(effects.allKeyWrites().isEmpty());
  }
}
