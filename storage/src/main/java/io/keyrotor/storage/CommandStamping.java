package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.ClockWitness;
import io.keyrotor.proto.internal.v1.Command;

/**
 * Stamps a command with the leader's time when the leader accepts it: the proposed time, and for
 * commands that create a version, its activation time (proposed time + activation delay). This is
 * the only place where a clock reading enters the replicated state; apply ({@link
 * io.keyrotor.storage.apply.CommandDispatcher}) then only reads what the command carries, so every
 * replica holds the same timestamps.
 */
public final class CommandStamping {
  private CommandStamping() {}

  /**
   * {@code command} stamped at {@code leaderTimeMillis}, with {@code witness} (the members' clocks
   * as the leader measured them; null when it measured none), which caps how far apply lets the
   * stamp move cluster time ({@link CommandTime}).
   */
  public static Command stamp(Command command, long leaderTimeMillis, ClockWitness witness) {
    Command stamped = stamp(command, leaderTimeMillis);
    return witness == null ? stamped : stamped.toBuilder().setClockWitness(witness).build();
  }

  /** {@code command} stamped at {@code leaderTimeMillis}. */
  public static Command stamp(Command command, long leaderTimeMillis) {
    Command.Builder stamped = command.toBuilder().setProposedTimeUnixMillis(leaderTimeMillis);
    switch (command.getBodyCase()) {
      case CREATE_KEY -> {
        long delay = Math.max(0, command.getCreateKey().getActivationDelayMillis());
        stamped.getCreateKeyBuilder().setActivationTimeUnixMillis(leaderTimeMillis + delay);
      }
      case ROTATE_KEY -> {
        long delay = Math.max(0, command.getRotateKey().getActivationDelayMillis());
        stamped.getRotateKeyBuilder().setActivationTimeUnixMillis(leaderTimeMillis + delay);
      }
      case SCHEDULE_VERSION_DESTROY -> {
        long waiting = Math.max(0, command.getScheduleVersionDestroy().getWaitingPeriodMillis());
        stamped
            .getScheduleVersionDestroyBuilder()
            .setDestroyTimeUnixMillis(leaderTimeMillis + waiting);
      }
      case ROLLBACK_ROTATION -> {
        if (command.getRollbackRotation().getEffectiveTimeUnixMillis() == 0) {
          stamped.getRollbackRotationBuilder().setEffectiveTimeUnixMillis(leaderTimeMillis);
        }
      }
      case ROTATE_KEYS -> {
        for (int i = 0; i < command.getRotateKeys().getRotationsCount(); i++) {
          long delay =
              Math.max(0, command.getRotateKeys().getRotations(i).getActivationDelayMillis());
          stamped
              .getRotateKeysBuilder()
              .getRotationsBuilder(i)
              .setActivationTimeUnixMillis(leaderTimeMillis + delay);
        }
      }
      default -> {}
    }
    return stamped.build();
  }
}
