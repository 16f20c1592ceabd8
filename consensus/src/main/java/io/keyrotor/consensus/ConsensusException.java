package io.keyrotor.consensus;

import java.util.Optional;

/** A proposal or read the Raft group could not serve. Says whether retrying may help. */
public final class ConsensusException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the group could not serve the request. */
  public enum Kind {
    /**
     * This node is not the leader and did not forward; {@link #leaderIdOrNull()} may say who is.
     */
    NOT_LEADER,
    /** No leader is known (an election is under way, or no quorum). */
    NO_LEADER,
    /** The request did not complete in time; it may or may not have been applied. */
    TIMEOUT,
    /** This node is shutting down or not running. */
    NOT_RUNNING,
    /**
     * The leader's clock disagrees with a majority of the members' clocks, so it stamped nothing;
     * it hands leadership over, and a retry reaches a leader whose clock agrees.
     */
    CLOCK_UNSAFE,
    /** Anything else Ratis reported. */
    FAILED
  }

  private final Kind kind;
  private final String leaderId;

  public ConsensusException(Kind kind, String message, String leaderIdOrNull, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.leaderId = leaderIdOrNull;
  }

  public Kind kind() {
    return kind;
  }

  public Optional<String> leaderId() {
    return Optional.ofNullable(leaderId);
  }

  String leaderIdOrNull() {
    return leaderId;
  }
}
