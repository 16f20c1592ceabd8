package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.ClockWitness;
import io.keyrotor.proto.internal.v1.Command;

/**
 * The effective time of a command at apply: the cluster time every handler decides with (a destroy
 * falling due, a rotation's activation, request expiry). Deterministic: it reads only the previous
 * command's effective time and what the command carries.
 *
 * <p>Two rules. Time never goes backwards: a leader whose clock is behind cannot move it back. And
 * a stamp cannot move time beyond what the members' clocks say: when the command carries a {@link
 * ClockWitness} (the leader measured its peers' clocks), its time is at most the witnessed majority
 * time plus twice the leader's maximum offset. A leader passes its own clock check only within one
 * offset (plus half a round trip of at most one offset) of that time, so the cap never binds a
 * healthy leader; it keeps a stamp from a jumped clock (a leader clock 400 days ahead) from moving
 * cluster time forward for good, which would destroy every version scheduled for destruction and
 * activate every pending one. A command without a witness (a one-member group, a leader that has
 * measured no peer yet, and every command logged before witnesses existed) keeps its stamp, so
 * replaying an old log gives the same state.
 */
public final class CommandTime {
  private CommandTime() {}

  /** The effective time of {@code command}, applied after a command of {@code previousMillis}. */
  public static long effective(long previousMillis, Command command) {
    long proposed = command.getProposedTimeUnixMillis();
    if (command.hasClockWitness()) {
      proposed = Math.min(proposed, ceiling(command.getClockWitness()));
    }
    return Math.max(previousMillis, proposed);
  }

  /** The latest time a command stamped with {@code witness} may move cluster time to. */
  public static long ceiling(ClockWitness witness) {
    long slack = 2 * Math.max(0, witness.getMaxOffsetMillis());
    long majority = witness.getMajorityTimeUnixMillis();
    return majority > Long.MAX_VALUE - slack ? Long.MAX_VALUE : majority + slack;
  }
}
