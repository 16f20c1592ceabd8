package io.keyrotor.consensus;

import io.keyrotor.proto.internal.v1.ClockWitness;
import java.time.Clock;
import java.util.Objects;

/**
 * Where the leader's time for a command comes from, read in {@link
 * KeyrotorStateMachine#startTransaction} (the only clock reading that enters the replicated state).
 * The server's implementation measures the node's clock against its peers' and refuses to stamp
 * ({@link ClockUnsafeException}) when a majority disagrees with it, so a leader whose clock jumped
 * puts no command in the log; its witness lets apply cap the stamp again ({@code
 * io.keyrotor.storage.CommandTime}).
 */
@FunctionalInterface
public interface CommandClock {
  /**
   * The time to stamp and what the leader knew of the members' clocks.
   *
   * @param timeMillis the leader's time
   * @param witnessOrNull the members' clocks as measured, or null when none was
   */
  record Stamp(long timeMillis, ClockWitness witnessOrNull) {}

  /**
   * The stamp for a command being accepted now.
   *
   * @throws ClockUnsafeException when this node's clock may not stamp commands now
   */
  Stamp stamp();

  /** Stamps {@code clock}'s reading, with no witness and no check (tests, one-node harnesses). */
  static CommandClock of(Clock clock) {
    Objects.requireNonNull(clock, "clock");
    return () -> new Stamp(clock.millis(), null);
  }
}
