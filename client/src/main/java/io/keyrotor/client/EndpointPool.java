package io.keyrotor.client;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.AuditServiceGrpc;
import io.keyrotor.api.v1.KeyServiceGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The servers a client talks to: one lazily created channel per address, the leader as far as the
 * client knows it, and a sticky preference for the configured endpoint that last answered.
 *
 * <p>The client connects only to the cluster's own addresses: the configured endpoints and the API
 * addresses that the cluster listed in a status answer ({@link #listedByCluster}). A leader hint
 * that names any other address is not followed ({@link #followHint}). Thread-safe.
 */
final class EndpointPool implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(EndpointPool.class.getName());

  /** One server address and its channel. */
  static final class Endpoint {
    final String address;
    final ManagedChannel channel;
    final KeyServiceGrpc.KeyServiceBlockingStub keys;
    final AdminServiceGrpc.AdminServiceBlockingStub admin;
    final AuditServiceGrpc.AuditServiceBlockingStub audit;

    Endpoint(String address, ManagedChannel channel) {
      this.address = address;
      this.channel = channel;
      this.keys = KeyServiceGrpc.newBlockingStub(channel);
      this.admin = AdminServiceGrpc.newBlockingStub(channel);
      this.audit = AuditServiceGrpc.newBlockingStub(channel);
    }

    AuditServiceGrpc.AuditServiceBlockingStub audit(long timeoutNanos) {
      return audit.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    KeyServiceGrpc.KeyServiceBlockingStub keys(long timeoutNanos) {
      return keys.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    AdminServiceGrpc.AdminServiceBlockingStub admin(long timeoutNanos) {
      return admin.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  private final List<String> configured;
  private final Function<String, ManagedChannel> channelFactory;
  private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();
  private final AtomicReference<String> leader = new AtomicReference<>();
  private final AtomicInteger preferred = new AtomicInteger();
  private final Set<String> listed = ConcurrentHashMap.newKeySet();
  private final Set<String> ignoredHintAddresses = ConcurrentHashMap.newKeySet();
  private final AtomicLong ignoredHints = new AtomicLong();
  private final Predicate<String> mayList;
  private volatile boolean closed;

  /**
   * @param mayList which addresses a cluster status answer may add to the cluster's members (with
   *     plaintext: loopback ones only, since nothing authenticated the answer)
   */
  EndpointPool(
      List<String> configured,
      Function<String, ManagedChannel> channelFactory,
      Predicate<String> mayList) {
    this.configured = List.copyOf(configured);
    this.channelFactory = channelFactory;
    this.mayList = mayList;
  }

  List<String> configured() {
    return configured;
  }

  /** The leader's API address as last learned, or null if unknown. */
  String leaderOrNull() {
    return leader.get();
  }

  /** Records the leader's API address; it must be one of the cluster's ({@link #isMember}). */
  void leaderIs(String address) {
    if (isMember(address)) {
      leader.set(address);
    }
  }

  /**
   * Whether {@code address} belongs to the cluster as far as the client knows: a configured
   * endpoint, or an API address that a node listed in a cluster status answer.
   */
  boolean isMember(String address) {
    return configured.contains(address) || listed.contains(address);
  }

  /**
   * Adds the API addresses of a cluster status answer, which came from a node the client reached
   * over its own channel (with TLS: a node whose certificate the client verified).
   */
  void listedByCluster(List<String> addresses) {
    for (String address : addresses) {
      if (mayList.test(address)) {
        listed.add(address);
      }
    }
  }

  /**
   * Follows a NOT_LEADER hint if it names one of the cluster's addresses; otherwise ignores it,
   * counts it and logs it (a node, or whatever answered in its place, may not send the client to an
   * arbitrary host).
   *
   * @return whether the hint became the known leader
   */
  boolean followHint(String hint, String from) {
    if (isMember(hint)) {
      leader.set(hint);
      return true;
    }
    ignoredHints.incrementAndGet();
    Level level = ignoredHintAddresses.add(hint) ? Level.WARNING : Level.FINE;
    LOG.log(
        level,
        "ignored a leader hint to {0} from {1}: not an address of the cluster (neither a"
            + " configured endpoint nor listed in a cluster status answer)",
        new Object[] {hint, from});
    return false;
  }

  /** How many leader hints named an address outside the cluster and were ignored. */
  long ignoredHints() {
    return ignoredHints.get();
  }

  /** Forgets the leader if it is {@code address} (it stopped answering or stopped leading). */
  void forgetLeader(String address) {
    leader.compareAndSet(address, null);
  }

  /**
   * The address to try next: the leader if known and not excluded, else the first configured
   * endpoint, starting from the preferred one, that is not excluded; null if every one is.
   */
  String pick(Set<String> excluded) {
    String known = leader.get();
    if (known != null && !excluded.contains(known)) {
      return known;
    }
    int start = preferred.get();
    for (int i = 0; i < configured.size(); i++) {
      String candidate = configured.get((start + i) % configured.size());
      if (!excluded.contains(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /** Makes a configured endpoint that just answered the first choice when no leader is known. */
  void answered(String address) {
    int index = configured.indexOf(address);
    if (index >= 0) {
      preferred.set(index);
    }
  }

  /** Moves the preference past an endpoint that failed. */
  void failed(String address) {
    forgetLeader(address);
    int index = configured.indexOf(address);
    if (index >= 0) {
      preferred.compareAndSet(index, (index + 1) % configured.size());
    }
  }

  /** The endpoint for an address, creating its channel on first use. */
  Endpoint endpoint(String address) {
    if (closed) {
      throw new IllegalStateException("keyrotor client is closed");
    }
    Endpoint endpoint =
        endpoints.computeIfAbsent(
            address, key -> new Endpoint(key, channelFactory.apply("dns:///" + key)));
    if (closed) {
      endpoint.channel.shutdownNow();
      throw new IllegalStateException("keyrotor client is closed");
    }
    return endpoint;
  }

  /**
   * Makes channels that gave up connecting try again now. gRPC backs off reconnects on its own (up
   * to two minutes); the client's rounds already back off, so a node that came back should be
   * usable by the next round, not minutes later.
   */
  void resetConnectBackoff() {
    for (Endpoint endpoint : endpoints.values()) {
      if (endpoint.channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
        endpoint.channel.resetConnectBackoff();
      }
    }
  }

  boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    closed = true;
    List<Endpoint> open = new ArrayList<>(endpoints.values());
    for (Endpoint endpoint : open) {
      endpoint.channel.shutdown();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    for (Endpoint endpoint : open) {
      try {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !endpoint.channel.awaitTermination(left, TimeUnit.NANOSECONDS)) {
          endpoint.channel.shutdownNow();
        }
      } catch (InterruptedException e) {
        endpoint.channel.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}
