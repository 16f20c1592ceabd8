package io.keyrotor.consensus;

/**
 * The leader's clock may not stamp commands now (it disagrees with a majority of the members'
 * clocks). Thrown by a {@link CommandClock}; the proposal fails before anything reaches the log,
 * and the proposer sees a {@link ConsensusException} of kind {@link
 * ConsensusException.Kind#CLOCK_UNSAFE} with this message.
 */
public final class ClockUnsafeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Marks the refusal in the text Ratis carries back to the proposer (possibly over the wire, where
   * only the message survives).
   */
  static final String MARKER = "CLOCK_UNSAFE: ";

  public ClockUnsafeException(String message) {
    super(message);
  }
}
