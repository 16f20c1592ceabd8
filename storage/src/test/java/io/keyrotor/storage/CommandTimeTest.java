package io.keyrotor.storage;

import static io.keyrotor.storage.Commands.rotate;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.ClockWitness;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The apply rule for time: cluster time never goes backwards, and a stamp cannot move it beyond the
 * members' clocks the leader witnessed, so a leader whose clock jumped destroys and activates
 * nothing early.
 */
class CommandTimeTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final long DAY = 86_400_000L;
  private static final long JUMP = 400 * DAY;

  @TempDir Path dir;

  private static ClockWitness witness(long majorityTime, long maxOffset) {
    return ClockWitness.newBuilder()
        .setMajorityTimeUnixMillis(majorityTime)
        .setMaxOffsetMillis(maxOffset)
        .setMembersMeasured(3)
        .build();
  }

  private static Command stamped(long proposed, ClockWitness witness) {
    Command.Builder command = Command.newBuilder().setProposedTimeUnixMillis(proposed);
    if (witness != null) {
      command.setClockWitness(witness);
    }
    return command.build();
  }

  @Test
  void withoutWitness_theStampMonotonic() {
    assertEquals(T0 + JUMP, CommandTime.effective(T0, stamped(T0 + JUMP, null)));
    assertEquals(T0, CommandTime.effective(T0, stamped(T0 - JUMP, null)));
  }

  @Test
  void witness_capsTheStampAtTheMajorityTimePlusTwoOffsets() {
    assertEquals(T0 + 1_000, CommandTime.effective(T0 - 5, stamped(T0 + JUMP, witness(T0, 500))));
    // A healthy leader's stamp is within the cap and kept exactly.
    assertEquals(T0 + 700, CommandTime.effective(T0, stamped(T0 + 700, witness(T0, 500))));
    // The cap never moves time backwards.
    assertEquals(
        T0 + 5_000, CommandTime.effective(T0 + 5_000, stamped(T0 + JUMP, witness(T0, 500))));
    assertEquals(Long.MAX_VALUE, CommandTime.ceiling(witness(Long.MAX_VALUE - 10, 500)));
  }

  /**
   * A leader 400 days ahead whose stamps carry the witness of its peers' clocks: the scheduled
   * destroy is refused as not due, the pending version stays pending at the new cluster time.
   */
  @Test
  void jumpedLeader_witnessedStamps_destroyAndActivateNothingEarly() {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      long index = 0;
      store.apply(Commands.create("c", T0, "k"), 1, ++index);
      store.apply(rotate("r2", T0, "k", T0, RotationReason.ROTATION_REASON_MANUAL), 1, ++index);
      store.apply(
          command("sd", T0, CommandBodies.scheduleDestroy("k", 1, 30 * DAY), null), 1, ++index);
      store.apply(
          rotate("r3", T0, "k", T0 + 30 * DAY, RotationReason.ROTATION_REASON_MANUAL), 1, ++index);

      ClockWitness peersAtT0 = witness(T0 + 1_000, 500);
      store.apply(
          command("d", T0 + JUMP, CommandBodies.destroyVersion("k", 1), peersAtT0), 1, ++index);

      assertEquals(T0 + 2_000, store.lastCommandTimeMillis());
      KeyRecord key = store.key("k").orElseThrow();
      assertEquals(VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED, key.getVersions(0).getStatus());
      assertEquals(
          KeyVersionState.KEY_VERSION_STATE_PENDING,
          KeyVersions.stateAt(key, key.getVersions(2), store.lastCommandTimeMillis()));
      assertEquals(2, KeyVersions.primaryVersionAt(key, store.lastCommandTimeMillis()));
    }
  }

  /**
   * A leader 400 days behind schedules a destroy: its stamped destroy time is long past, but the
   * waiting period counts from cluster time, so the version is not destroyable before it.
   */
  @Test
  void leaderBehind_scheduledDestroy_waitsItsFullPeriodFromClusterTime() {
    try (KeyStateStore store = KeyStateStore.open(dir)) {
      long index = 0;
      store.apply(Commands.create("c", T0, "k"), 1, ++index);
      store.apply(rotate("r2", T0, "k", T0, RotationReason.ROTATION_REASON_MANUAL), 1, ++index);
      Command behind =
          CommandStamping.stamp(
              command("sd", T0 - JUMP, CommandBodies.scheduleDestroy("k", 1, 30 * DAY), null),
              T0 - JUMP);
      store.apply(behind, 1, ++index);

      KeyRecord key = store.key("k").orElseThrow();
      assertEquals(T0 + 30 * DAY, key.getVersions(0).getDestroyTimeUnixMillis());
      store.apply(command("d", T0 - JUMP, CommandBodies.destroyVersion("k", 1), null), 1, ++index);
      assertEquals(
          VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED,
          store.key("k").orElseThrow().getVersions(0).getStatus());
    }
  }

  private static Command command(
      String requestId,
      long time,
      com.google.protobuf.MessageOrBuilder body,
      ClockWitness witnessOrNull) {
    Command.Builder command =
        CommandBodies.inCommand(body).setRequestId(requestId).setProposedTimeUnixMillis(time);
    if (witnessOrNull != null) {
      command.setClockWitness(witnessOrNull);
    }
    return command.build();
  }
}
