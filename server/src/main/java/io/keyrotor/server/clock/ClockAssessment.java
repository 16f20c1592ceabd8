package io.keyrotor.server.clock;

import io.keyrotor.api.v1.ClockStatus;
import io.keyrotor.api.v1.PeerClockOffset;
import io.keyrotor.proto.internal.v1.ClockWitness;
import java.util.List;

/**
 * This node's clock against its peers' at one moment ({@link PeerClocks#assess}).
 *
 * @param state SAFE, UNMEASURED or UNSAFE (see {@link State})
 * @param ownMillis this node's clock
 * @param majorityTimeMillis the lower median of the measured clocks, this node's included: with a
 *     majority of the members measured, a time most clocks are at or past, whatever one clock says
 * @param membersMeasured how many clocks the median is over (this node's included)
 * @param maxOffsetMillis the agreement bound ({@code clock.max-offset})
 * @param peers each peer's offset, sorted by id
 * @param reason why, when not SAFE
 */
public record ClockAssessment(
    State state,
    long ownMillis,
    long majorityTimeMillis,
    int membersMeasured,
    long maxOffsetMillis,
    List<PeerOffset> peers,
    String reason) {

  /** What this node may do with its clock. */
  public enum State {
    /** A majority of the members (this node included) agree within the maximum offset. */
    SAFE,
    /**
     * No recent measurement disagrees, but too few agree yet (start-up, or peers' APIs not
     * reachable): the node still stamps, as it did before it measured anything.
     */
    UNMEASURED,
    /**
     * Some peer disagrees and no majority agrees: as leader, stamp nothing and hand leadership
     * over; serve at the majority's time.
     */
    UNSAFE
  }

  /**
   * One peer's clock against this node's.
   *
   * @param offsetMillis the peer's clock minus this node's (positive: the peer is ahead)
   */
  public record PeerOffset(
      String nodeId,
      boolean measured,
      long offsetMillis,
      long roundTripMillis,
      long ageMillis,
      boolean agrees) {
    static PeerOffset unmeasured(String nodeId) {
      return new PeerOffset(nodeId, false, 0, 0, 0, false);
    }
  }

  /** Whether this node may stamp commands with its clock. */
  public boolean mayStamp() {
    return state != State.UNSAFE;
  }

  /**
   * The time to serve at: this node's clock, or the majority's time when this node's clock is
   * unsafe.
   */
  public long agreedMillis() {
    return state == State.UNSAFE ? majorityTimeMillis : ownMillis;
  }

  /** The witness a stamp carries, or null when no peer's clock was measured. */
  public ClockWitness witnessOrNull() {
    if (membersMeasured < 2) {
      return null;
    }
    return ClockWitness.newBuilder()
        .setMajorityTimeUnixMillis(majorityTimeMillis)
        .setMaxOffsetMillis(maxOffsetMillis)
        .setMembersMeasured(membersMeasured)
        .build();
  }

  /** The largest offset of a measured peer, either way (0 with none). */
  public long maxAbsoluteOffsetMillis() {
    return peers.stream()
        .filter(PeerOffset::measured)
        .mapToLong(p -> Math.abs(p.offsetMillis()))
        .max()
        .orElse(0);
  }

  /** As the node status shows it. */
  public ClockStatus toProto() {
    ClockStatus.Builder out =
        ClockStatus.newBuilder()
            .setState(state.name())
            .setMaxOffsetMillis(maxOffsetMillis)
            .setReason(reason);
    for (PeerOffset peer : peers) {
      out.addPeers(
          PeerClockOffset.newBuilder()
              .setNodeId(peer.nodeId())
              .setMeasured(peer.measured())
              .setOffsetMillis(peer.offsetMillis())
              .setRoundTripMillis(peer.roundTripMillis())
              .setAgeMillis(peer.ageMillis())
              .setAgrees(peer.agrees()));
    }
    return out.build();
  }
}
