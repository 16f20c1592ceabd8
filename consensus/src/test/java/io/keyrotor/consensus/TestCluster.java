package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.keyrotor.consensus.testing.Replicas;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Stream;

/** A Raft group of real nodes on loopback, each with its own Ratis log and RocksDB. */
final class TestCluster implements AutoCloseable {
  static {
    // Ratis exits the JVM when its server cannot bind; in tests that would kill the test runner.
    org.apache.ratis.util.ExitUtils.disableSystemExit();
  }

  final Map<String, String> peers = new TreeMap<>();
  final Map<String, RaftNode> nodes = new TreeMap<>();
  final List<Throwable> fatalErrors = new CopyOnWriteArrayList<>();

  /** The apply listeners a node starts with, by node id (none unless a test sets them). */
  Function<String, List<KeyrotorStateMachine.ApplyListener>> listeners = id -> List.of();

  /** The command clock a node starts with, by node id (the system clock unless a test sets it). */
  Function<String, CommandClock> clocks = id -> CommandClock.of(Clock.systemUTC());

  private final Path root;
  private final Function<ConsensusConfig, ConsensusConfig> tuning;

  TestCluster(Path root, int size, Function<ConsensusConfig, ConsensusConfig> tuning)
      throws IOException {
    this.root = root;
    this.tuning = tuning;
    for (int i = 1; i <= size; i++) {
      peers.put("n" + i, "127.0.0.1:" + freePort());
    }
  }

  void startAll() throws IOException {
    for (String id : peers.keySet()) {
      start(id);
    }
  }

  RaftNode start(String id) throws IOException {
    ConsensusConfig config = tuning.apply(ConsensusConfig.of(id, peers, "test", root.resolve(id)));
    RaftNode node =
        RaftNode.start(
            config,
            clocks.apply(id),
            (message, cause) -> fatalErrors.add(new AssertionError(message, cause)),
            listeners.apply(id));
    nodes.put(id, node);
    return node;
  }

  void stop(String id) {
    RaftNode node = nodes.remove(id);
    if (node != null) {
      node.close();
    }
  }

  void wipe(String id) throws IOException {
    Path dir = root.resolve(id);
    if (Files.exists(dir)) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  RaftNode leader() {
    // A liveness bound, not a speed check: on a loaded machine (load average 30+) a fresh group's
    // leaders lost their terms to late heartbeats for more than 20 s before one held.
    waitUntil(
        () -> nodes.values().stream().anyMatch(RaftNode::isReadyLeader),
        Duration.ofSeconds(60),
        "a leader");
    return nodes.values().stream().filter(RaftNode::isReadyLeader).findFirst().orElseThrow();
  }

  String leaderId() {
    return leader().nodeId();
  }

  List<RaftNode> followers() {
    String leader = leaderId();
    List<RaftNode> out = new ArrayList<>();
    nodes.forEach(
        (id, node) -> {
          if (!id.equals(leader)) {
            out.add(node);
          }
        });
    return out;
  }

  /** Waits until every running node applied the same index and reports the same digest. */
  void awaitConvergence() {
    waitUntil(
        () -> {
          OptionalLong index = Replicas.sameAppliedState(nodes.values());
          return index.isPresent() && index.getAsLong() >= leader().status().commitIndex();
        },
        Duration.ofSeconds(30),
        "all nodes at the same applied index and digest");
  }

  static CommandResult await(java.util.concurrent.CompletableFuture<CommandResult> future) {
    try {
      return future.get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("proposal failed", e);
    }
  }

  static Command createKey(String name) {
    return Command.newBuilder()
        .setRequestId(UUID.randomUUID().toString())
        .setOriginNode("test")
        .setCreateKey(CreateKey.newBuilder().setName(name).setZone("default").setKek(kek(name)))
        .build();
  }

  static Command rotateKey(String name, String requestId) {
    return Command.newBuilder()
        .setRequestId(requestId)
        .setOriginNode("test")
        .setRotateKey(RotateKey.newBuilder().setName(name).setKek(kek(name + requestId)))
        .build();
  }

  static WrappedKeyMaterial kek(String tag) {
    return WrappedKeyMaterial.newBuilder()
        .setZone("default")
        .setZoneMasterKeyVersion(1)
        .setMechanism("AES_KEY_WRAP_PAD")
        .setCiphertext(ByteString.copyFromUtf8("wrapped-" + tag))
        .build();
  }

  static void waitUntil(BooleanSupplier condition, Duration timeout, String what) {
    Replicas.waitUntil(condition, timeout, what);
  }

  /**
   * A free port below the kernel's ephemeral range (32768+): a port from that range can be taken by
   * any outgoing connection while a stopped node waits to be restarted on it.
   */
  static int freePort() throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      int port = 10_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(22_000);
      try (ServerSocket socket = new ServerSocket(port)) {
        return socket.getLocalPort();
      } catch (IOException e) {
        // taken: try another
      }
    }
    throw new IOException("no free port below the ephemeral range");
  }

  @Override
  public void close() {
    for (String id : new ArrayList<>(nodes.keySet())) {
      stop(id);
    }
  }

  /**
   * Closes {@code cluster} if the test started one, then fails the test if a node reported a fatal
   * error: an exception in apply stops a Ratis server, which a test's own assertions may not see.
   */
  static void closeAndCheck(TestCluster cluster) {
    if (cluster != null) {
      cluster.close();
      assertTrue(cluster.fatalErrors.isEmpty(), () -> "fatal errors: " + cluster.fatalErrors);
    }
  }
}
