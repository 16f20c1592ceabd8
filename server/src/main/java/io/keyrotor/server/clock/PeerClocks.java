package io.keyrotor.server.clock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The latest measurement of each peer's wall clock, and what they say about this node's clock.
 *
 * <p>A measurement is NTP-style: the peer's clock reading {@code remote} taken during a call sent
 * at {@code send} and answered at {@code receive} (this node's monotonic clock) is assumed to be at
 * the midpoint, with an error of at most half the round trip. The peer's clock is then carried
 * forward on the monotonic clock, never on this node's wall clock: so when this node's wall clock
 * jumps, the estimates of its peers' clocks do not jump with it, and the jump shows at once as an
 * offset against every peer. A measurement is used while younger than {@code maxAge} (clock drift
 * over it is negligible) and kept only when its round trip is at most {@code maxOffset} (a slower
 * answer says too little).
 *
 * <p>Pure and thread-safe: {@link #assess} takes the readings it needs as arguments, so it is
 * tested without clocks or sleeps.
 */
public final class PeerClocks {
  /** One measurement of {@code peer}. */
  record Sample(long remoteMillis, long midpointNanos, long roundTripNanos) {}

  private final Set<String> peers;
  private final long maxOffsetMillis;
  private final long maxAgeNanos;
  private final Map<String, Sample> samples = new ConcurrentHashMap<>();

  /**
   * @param peers the other members' ids
   * @param maxOffset how far a clock may be from this node's and still agree ({@code
   *     clock.max-offset})
   * @param maxAge how long a measurement is used ({@code clock.sample-max-age})
   */
  public PeerClocks(Set<String> peers, Duration maxOffset, Duration maxAge) {
    this.peers = Set.copyOf(peers);
    this.maxOffsetMillis = maxOffset.toMillis();
    this.maxAgeNanos = maxAge.toNanos();
  }

  public Set<String> peers() {
    return peers;
  }

  public long maxOffsetMillis() {
    return maxOffsetMillis;
  }

  /**
   * Records a measurement of {@code peer}: its clock read {@code remoteMillis} during a call sent
   * at {@code sendNanos} and answered at {@code receiveNanos}. Returns false (and keeps the
   * previous measurement) when the round trip is too long to say anything within the maximum
   * offset.
   */
  public boolean record(String peer, long remoteMillis, long sendNanos, long receiveNanos) {
    long roundTrip = receiveNanos - sendNanos;
    if (!peers.contains(peer) || roundTrip < 0 || roundTrip / 1_000_000 > maxOffsetMillis) {
      return false;
    }
    samples.put(peer, new Sample(remoteMillis, sendNanos + roundTrip / 2, roundTrip));
    return true;
  }

  /**
   * How this node's clock, reading {@code ownMillis} at monotonic time {@code nowNanos}, compares
   * with its peers'.
   */
  public ClockAssessment assess(long ownMillis, long nowNanos) {
    List<ClockAssessment.PeerOffset> offsets = new ArrayList<>();
    long[] measured = new long[peers.size() + 1];
    int count = 0;
    measured[count++] = ownMillis;
    int agreeing = 1;
    int disagreeing = 0;
    for (String peer : peers.stream().sorted().toList()) {
      Sample sample = samples.get(peer);
      long ageNanos = sample == null ? Long.MAX_VALUE : nowNanos - sample.midpointNanos();
      if (sample == null || ageNanos > maxAgeNanos || ageNanos < 0) {
        offsets.add(ClockAssessment.PeerOffset.unmeasured(peer));
        continue;
      }
      long peerNow = sample.remoteMillis() + ageNanos / 1_000_000;
      long offset = peerNow - ownMillis;
      long roundTripMillis = sample.roundTripNanos() / 1_000_000;
      // The benefit of the doubt: disagree only when certainly beyond the maximum offset.
      boolean agrees = Math.abs(offset) - roundTripMillis / 2 <= maxOffsetMillis;
      offsets.add(
          new ClockAssessment.PeerOffset(
              peer, true, offset, roundTripMillis, ageNanos / 1_000_000, agrees));
      measured[count++] = peerNow;
      if (agrees) {
        agreeing++;
      } else {
        disagreeing++;
      }
    }
    int members = peers.size() + 1;
    int majority = members / 2 + 1;
    long[] times = Arrays.copyOf(measured, count);
    Arrays.sort(times);
    // The lower median: a majority of the measured clocks are at or past it.
    long majorityTime = times[(count - 1) / 2];
    ClockAssessment.State state;
    String reason;
    if (agreeing >= majority) {
      state = ClockAssessment.State.SAFE;
      reason = "";
    } else if (disagreeing == 0) {
      state = ClockAssessment.State.UNMEASURED;
      reason =
          "only "
              + (agreeing - 1)
              + " of "
              + peers.size()
              + " peers' clocks measured recently; "
              + majority
              + " members must agree";
    } else {
      state = ClockAssessment.State.UNSAFE;
      reason =
          "this node's clock is more than "
              + maxOffsetMillis
              + " ms away from "
              + disagreeing
              + " of "
              + peers.size()
              + " peers' clocks (offsets "
              + describe(offsets)
              + "), and only "
              + agreeing
              + " of "
              + members
              + " members agree, fewer than the majority of "
              + majority;
    }
    return new ClockAssessment(
        state, ownMillis, majorityTime, count, maxOffsetMillis, List.copyOf(offsets), reason);
  }

  private static String describe(List<ClockAssessment.PeerOffset> offsets) {
    StringBuilder out = new StringBuilder();
    for (ClockAssessment.PeerOffset offset : offsets) {
      if (offset.measured()) {
        out.append(out.isEmpty() ? "" : ", ")
            .append(offset.nodeId())
            .append(' ')
            .append(offset.offsetMillis() >= 0 ? "+" : "")
            .append(offset.offsetMillis())
            .append(" ms");
      }
    }
    return out.toString();
  }
}
