package io.keyrotor.client;

import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Where the client learns the leader's address besides {@code NOT_LEADER} hints: from cluster
 * status, asked for before a write when no leader is known (at most every 5 s, 1 s timeout, best
 * effort), and from every {@link KeyrotorClient#clusterStatus()} answer. Thread-safe.
 */
final class LeaderDiscovery {

  private static final Duration INTERVAL = Duration.ofSeconds(5);
  private static final Duration TIMEOUT = Duration.ofSeconds(1);

  private final EndpointPool pool;
  private final Clock clock;
  private final Duration attemptTimeout;
  private final boolean enabled;
  private final Object lock = new Object();
  private Instant lastDiscovery;

  /**
   * @param enabled whether {@link #discoverIfUnknown()} asks at all ({@code leaderDiscovery} on the
   *     builder); {@link #learn} works either way
   */
  LeaderDiscovery(EndpointPool pool, Clock clock, Duration attemptTimeout, boolean enabled) {
    this.pool = pool;
    this.clock = clock;
    this.attemptTimeout = attemptTimeout;
    this.enabled = enabled;
  }

  /** Learns the leader's address from cluster status once in a while, when no leader is known. */
  void discoverIfUnknown() {
    if (!enabled || pool.leaderOrNull() != null) {
      return;
    }
    String target;
    synchronized (lock) {
      Instant now = clock.instant();
      if (lastDiscovery != null && now.isBefore(lastDiscovery.plus(INTERVAL))) {
        return;
      }
      lastDiscovery = now;
      target = pool.pick(Set.of());
    }
    long timeoutNanos = Math.min(TIMEOUT.toNanos(), attemptTimeout.toNanos());
    try {
      ClusterStatus status =
          pool.endpoint(target)
              .admin(timeoutNanos)
              .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
      learn(status);
    } catch (StatusRuntimeException e) {
      // Best effort: the call itself finds its way by NOT_LEADER hints and failover.
    }
  }

  /**
   * Records the members' API addresses that {@code status} lists, and the leader it names if it
   * names one with a valid API address.
   */
  void learn(ClusterStatus status) {
    List<String> addresses = new ArrayList<>();
    for (NodeStatus node : status.getNodesList()) {
      String address = validAddressOrNull(node.getApiAddress());
      if (address != null) {
        addresses.add(address);
      }
    }
    pool.listedByCluster(addresses);
    String leaderId = status.getLeaderId();
    if (leaderId.isEmpty()) {
      return;
    }
    for (NodeStatus node : status.getNodesList()) {
      if (node.getId().equals(leaderId)) {
        String address = validAddressOrNull(node.getApiAddress());
        if (address != null) {
          pool.leaderIs(address);
        }
        return;
      }
    }
  }

  /** {@code hint} as a valid {@code host:port}, or null if it is missing or malformed. */
  static String validAddressOrNull(String hint) {
    if (hint == null || hint.isBlank()) {
      return null;
    }
    try {
      return Endpoints.validate(hint);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
