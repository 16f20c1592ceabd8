package io.keyrotor.client;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.KeyServiceGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The servers a client talks to: one lazily created channel per address, the leader as far as the
 * client knows it, and a sticky preference for the configured endpoint that last answered.
 * Thread-safe.
 */
final class EndpointPool implements AutoCloseable {

  /** One server address and its channel. */
  static final class Endpoint {
    final String address;
    final ManagedChannel channel;
    final KeyServiceGrpc.KeyServiceBlockingStub keys;
    final AdminServiceGrpc.AdminServiceBlockingStub admin;

    Endpoint(String address, ManagedChannel channel) {
      this.address = address;
      this.channel = channel;
      this.keys = KeyServiceGrpc.newBlockingStub(channel);
      this.admin = AdminServiceGrpc.newBlockingStub(channel);
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
  private volatile boolean closed;

  EndpointPool(List<String> configured, Function<String, ManagedChannel> channelFactory) {
    this.configured = List.copyOf(configured);
    this.channelFactory = channelFactory;
  }

  List<String> configured() {
    return configured;
  }

  /** The leader's API address as last learned, or null if unknown. */
  String leaderOrNull() {
    return leader.get();
  }

  /** Records the leader's API address (from a NOT_LEADER hint or cluster status). */
  void leaderIs(String address) {
    leader.set(address);
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
