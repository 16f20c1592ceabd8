package io.keyrotor.consensus;

/**
 * A change of the Raft group's members that Ratis did not make: another change is still in progress
 * (retry once it completes), or the configuration changed since it was read (read it again).
 */
public final class MembershipChangeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public MembershipChangeException(String message, Throwable cause) {
    super(message, cause);
  }
}
