package io.keyrotor.bench;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A cluster the benchmark drives at its leader over one channel per member ({@link KeyrotorTarget},
 * {@link EtcdTarget}): the channels, created on first use, and the leader's address as last
 * learned.
 */
abstract class ClusterTarget implements AutoCloseable {
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final ChannelCredentials credentials;
  private volatile String leaderAddress;

  /** A cluster called with {@code credentials} (mutual TLS for keyrotor, plaintext for etcd). */
  ClusterTarget(ChannelCredentials credentials) {
    this.credentials = credentials;
  }

  /** The leader's address as last learned. */
  String leaderAddress() {
    return leaderAddress;
  }

  /** Records where the leader is. */
  void leaderIs(String address) {
    leaderAddress = address;
  }

  ManagedChannel channel(String address) {
    return channels.computeIfAbsent(address, a -> Targets.channel(a, credentials));
  }

  /** Forgets the channel to {@code address} (a restarted member: no reconnect backoff left). */
  void resetChannel(String address) {
    ManagedChannel old = channels.remove(address);
    if (old != null) {
      old.shutdownNow();
    }
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
  }
}
