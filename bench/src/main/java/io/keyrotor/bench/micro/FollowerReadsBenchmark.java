package io.keyrotor.bench.micro;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Decrypt through gRPC over mutual TLS (as the cluster's {@code admin}) under the two follower
 * policies ({@code reads.follower}), the measurement behind the default {@code redirect}. Three
 * real nodes in this JVM on loopback: n1 leads, n2 serves reads through ReadIndex, n3 redirects
 * them (UNAVAILABLE NOT_LEADER with the leader's address).
 *
 * <ul>
 *   <li>{@link #decryptOneClient}: the time of one call from one client, by route: on the leader,
 *       on the read-index follower, the redirect follower's NOT_LEADER answer alone, and a client
 *       that does not follow the leader (NOT_LEADER, then the leader).
 *   <li>{@link #decryptConcurrentClients}: calls per second from concurrent clients (MicroMain runs
 *       it with 8 threads), all on the leader (redirect's steady state), split over the leader and
 *       the read-index follower, or all on that follower.
 * </ul>
 *
 * All three nodes share this machine's cores, so spreading calls over followers cannot add CPU
 * here; on separate machines it would, but the leader still answers one ReadIndex request per
 * follower read.
 */
public class FollowerReadsBenchmark {
  static final Map<String, String> CONTEXT = Map.of("tenant", "bench");

  /** The cluster, a key and a Decrypt request of a 32-byte data key under it. */
  @State(Scope.Benchmark)
  public static class Cluster {
    InProcessCluster cluster;
    DecryptRequest request;

    @Setup(Level.Trial)
    public void start() throws Exception {
      cluster =
          new InProcessCluster(
              Map.of(
                  "n2", List.of("reads.follower=read-index"),
                  "n3", List.of("reads.follower=redirect")));
      cluster.lead("n1");
      ByteString ciphertext = cluster.encryptedUnderNewKey(address("n1"), "measured", CONTEXT);
      request =
          DecryptRequest.newBuilder().setCiphertext(ciphertext).putAllContext(CONTEXT).build();
      // A follower that has not applied the key yet serves it itself instead of redirecting.
      cluster.awaitConvergence();
    }

    String address(String nodeId) {
      return "127.0.0.1:" + cluster.node(nodeId).apiPort();
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
      cluster.close();
    }
  }

  /** One client's route to a Decrypt. */
  @State(Scope.Thread)
  public static class Route {
    @Param({"leader", "read-index-follower", "redirect-answer", "redirect-then-leader"})
    public String route;

    DecryptRequest request;
    ManagedChannel leaderChannel;
    ManagedChannel followerChannel;
    KeyServiceBlockingStub leader;
    KeyServiceBlockingStub follower;

    @Setup(Level.Trial)
    public void open(Cluster cluster) {
      request = cluster.request;
      leaderChannel = cluster.cluster.channel(cluster.address("n1"));
      leader = KeyServiceGrpc.newBlockingStub(leaderChannel);
      followerChannel =
          cluster.cluster.channel(
              cluster.address(route.equals("read-index-follower") ? "n2" : "n3"));
      follower = KeyServiceGrpc.newBlockingStub(followerChannel);
    }

    @TearDown(Level.Trial)
    public void close() {
      leaderChannel.shutdownNow();
      followerChannel.shutdownNow();
    }
  }

  /** Concurrent clients spread over the leader and the read-index follower. */
  @State(Scope.Thread)
  public static class Spread {
    @Param({"leader", "leader-and-read-index-follower", "read-index-follower"})
    public String spread;

    DecryptRequest request;
    ManagedChannel channel;
    KeyServiceBlockingStub keys;

    @Setup(Level.Trial)
    public void open(Cluster cluster, ThreadParams thread) {
      request = cluster.request;
      String node =
          switch (spread) {
            case "leader" -> "n1";
            case "read-index-follower" -> "n2";
            default -> thread.getThreadIndex() % 2 == 0 ? "n1" : "n2";
          };
      channel = cluster.cluster.channel(cluster.address(node));
      keys = KeyServiceGrpc.newBlockingStub(channel);
    }

    @TearDown(Level.Trial)
    public void close() {
      channel.shutdownNow();
    }
  }

  /** One Decrypt from one client, by route. */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public Object decryptOneClient(Route route) {
    return switch (route.route) {
      case "leader" -> route.leader.decrypt(route.request);
      case "read-index-follower" -> route.follower.decrypt(route.request);
      case "redirect-answer" -> {
        try {
          route.follower.decrypt(route.request);
        } catch (StatusRuntimeException redirected) {
          yield redirected;
        }
        throw new IllegalStateException("the redirect follower served the call itself");
      }
      default -> {
        try {
          yield route.follower.decrypt(route.request);
        } catch (StatusRuntimeException redirected) {
          yield route.leader.decrypt(route.request);
        }
      }
    };
  }

  /** Decrypt calls per second from concurrent clients. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public DecryptResponse decryptConcurrentClients(Spread spread) {
    return spread.keys.decrypt(spread.request);
  }
}
