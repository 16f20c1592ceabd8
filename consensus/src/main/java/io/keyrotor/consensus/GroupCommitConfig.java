package io.keyrotor.consensus;

/**
 * How the proposer gathers concurrent client commands into one log entry (group commit).
 *
 * <p>A client command goes out at once when fewer than {@code maxInFlight} proposals of this node
 * are in flight (so one client alone waits no longer than without batching); otherwise it waits for
 * the next free slot, and every command waiting then goes out together in one {@code CommandBatch}
 * entry, up to {@code maxCommands} commands and {@code maxBytes} encoded bytes (the rest go in the
 * entries after it). Only commands a client caused (a principal and a request id) are gathered; the
 * nodes' own commands go alone.
 *
 * @param enabled whether commands are gathered at all (false: one entry per command, as before)
 * @param maxCommands the most commands in one entry (1-{@value #MAX_COMMANDS})
 * @param maxBytes the most encoded command bytes in one entry (4 KiB-{@value #MAX_BYTES})
 * @param maxInFlight how many of this node's batch proposals may be in flight at once (1-{@value
 *     #MAX_IN_FLIGHT})
 */
public record GroupCommitConfig(boolean enabled, int maxCommands, int maxBytes, int maxInFlight) {
  /** The ceiling of {@link #maxCommands}. */
  public static final int MAX_COMMANDS = 1024;

  /** The ceiling of {@link #maxBytes}: well below a Raft log segment (8 MiB). */
  public static final int MAX_BYTES = 4 << 20;

  /** The ceiling of {@link #maxInFlight}. */
  public static final int MAX_IN_FLIGHT = 16;

  public GroupCommitConfig {
    if (maxCommands < 1 || maxCommands > MAX_COMMANDS) {
      throw new IllegalArgumentException(
          "group commit max commands must be 1-" + MAX_COMMANDS + ", got " + maxCommands);
    }
    if (maxBytes < 4096 || maxBytes > MAX_BYTES) {
      throw new IllegalArgumentException(
          "group commit max bytes must be 4096-" + MAX_BYTES + ", got " + maxBytes);
    }
    if (maxInFlight < 1 || maxInFlight > MAX_IN_FLIGHT) {
      throw new IllegalArgumentException(
          "group commit max in flight must be 1-" + MAX_IN_FLIGHT + ", got " + maxInFlight);
    }
  }

  /** On: up to 256 commands or 1 MiB in an entry, one batch in flight. */
  public static GroupCommitConfig defaults() {
    return new GroupCommitConfig(true, 256, 1 << 20, 1);
  }

  /** Off: one entry per command. */
  public static GroupCommitConfig off() {
    return new GroupCommitConfig(false, 256, 1 << 20, 1);
  }
}
