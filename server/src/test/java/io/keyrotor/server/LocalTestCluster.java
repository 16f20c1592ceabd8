package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.GetPolicyRequest;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.SetPolicyRequest;
import io.keyrotor.consensus.testing.Replicas;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.local.LocalClusterLayout;
import io.keyrotor.tls.DevelopmentCa;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A real keyrotor cluster in this JVM: nodes started from the same configuration files, software
 * HSM key files and development CA that scripts/cluster writes, serving gRPC with mutual TLS on
 * loopback ports. Callers authenticate as nodes see it from outside: {@link #keys}/{@link #admin}
 * present the cluster's admin certificate (DIR/tls/admin.pem); {@link #keysAs}/{@link #adminAs}
 * present a client certificate for any principal, issued by the cluster's CA; {@link
 * #channelWithoutCertificate} speaks TLS without one.
 */
final class LocalTestCluster implements AutoCloseable {
  final Path directory;
  final int size;
  final Map<String, KeyrotorNode> nodes = new TreeMap<>();
  final List<Throwable> fatalErrors = new CopyOnWriteArrayList<>();

  /** Open channels by node id, then by caller ({@link #ADMIN_FILES} or a principal). */
  private final Map<String, Map<String, ManagedChannel>> channels = new TreeMap<>();

  private final LocalClusterLayout layout;
  private DevelopmentCa ca;

  /** Where the nodes started after it is set send their spans; null: as tracing.* says. */
  volatile io.opentelemetry.api.OpenTelemetry openTelemetry;

  /** The caller key of the channels that present DIR/tls/admin.pem. */
  private static final String ADMIN_FILES = "\u0000admin.pem";

  /** The caller key of the channels that present no client certificate. */
  private static final String NO_CERTIFICATE = "\u0000none";

  LocalTestCluster(Path directory, int size, List<String> regions) throws Exception {
    this(directory, size, regions, LocalClusterLayout.SOFTWARE);
  }

  /**
   * @param hsmKind {@link LocalClusterLayout#SOFTWARE}, or {@link LocalClusterLayout#SOFTHSM2} (the
   *     test then makes the tokens and zone master keys before {@link #startAll})
   */
  LocalTestCluster(Path directory, int size, List<String> regions, String hsmKind)
      throws Exception {
    this(directory, size, regions, hsmKind, layout -> layout);
  }

  /** A cluster whose layout {@code customize} adjusts before it is written (a name, no zones). */
  LocalTestCluster(
      Path directory,
      int size,
      List<String> regions,
      String hsmKind,
      java.util.function.UnaryOperator<LocalClusterLayout> customize)
      throws Exception {
    this.directory = directory;
    this.size = size;
    this.layout =
        customize.apply(
            new LocalClusterLayout(
                directory, size, regions, freeBasePort(size), "127.0.0.1", hsmKind));
    layout.write();
  }

  LocalClusterLayout layout() {
    return layout;
  }

  /** Adds (or overrides) a line of a node's configuration; takes effect at its next start. */
  void configure(String id, String key, String value) throws IOException {
    java.nio.file.Files.writeString(
        directory.resolve(id).resolve("node.properties"),
        key + "=" + value + "\n",
        java.nio.file.StandardOpenOption.APPEND);
  }

  /** The id of the node whose API listens on {@code address}, or null. */
  String idOfAddress(String address) {
    for (int i = 1; i <= size; i++) {
      if (apiAddress("n" + i).equals(address)) {
        return "n" + i;
      }
    }
    return null;
  }

  void startAll() throws Exception {
    for (int i = 1; i <= size; i++) {
      start("n" + i);
    }
    awaitRegistered();
  }

  KeyrotorNode start(String id) throws Exception {
    NodeConfig config = NodeConfig.load(directory.resolve(id).resolve("node.properties"));
    KeyrotorNode node =
        KeyrotorNode.start(
            config,
            Clock.systemUTC(),
            (message, cause) -> fatalErrors.add(new AssertionError(message, cause)),
            openTelemetry);
    nodes.put(id, node);
    Map<String, ManagedChannel> previous;
    synchronized (this) {
      previous = channels.remove(id);
    }
    if (previous != null) {
      // Fresh channels: no reconnect backoff left from while it was down.
      previous.values().forEach(ManagedChannel::shutdownNow);
    }
    return node;
  }

  void stop(String id) {
    KeyrotorNode node = nodes.remove(id);
    if (node != null) {
      node.close();
    }
  }

  String apiAddress(String id) {
    return layout.apiAddress(Integer.parseInt(id.substring(1)));
  }

  /** A stub for node {@code id} whose calls give up after {@code deadline}. */
  KeyServiceGrpc.KeyServiceBlockingStub keys(String id, Duration deadline) {
    return KeyServiceGrpc.newBlockingStub(channel(id))
        .withDeadlineAfter(deadline.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  KeyServiceGrpc.KeyServiceBlockingStub keys(String id) {
    return KeyServiceGrpc.newBlockingStub(channel(id))
        .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** The audit service of node {@code id}, as the cluster's admin. */
  io.keyrotor.api.v1.AuditServiceGrpc.AuditServiceBlockingStub audit(String id) {
    return io.keyrotor.api.v1.AuditServiceGrpc.newBlockingStub(channel(id))
        .withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** The audit service of node {@code id}, as {@code principal}. */
  io.keyrotor.api.v1.AuditServiceGrpc.AuditServiceBlockingStub auditAs(
      String id, String principal) {
    return io.keyrotor.api.v1.AuditServiceGrpc.newBlockingStub(channelAs(id, principal))
        .withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS);
  }

  AdminServiceGrpc.AdminServiceBlockingStub admin(String id) {
    return AdminServiceGrpc.newBlockingStub(channel(id))
        .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS);
  }

  /**
   * A KeyService stub for node {@code id} whose calls present a client certificate of the cluster's
   * CA for {@code principal} (a URI such as {@code spiffe://...} becomes its URI name).
   */
  KeyServiceGrpc.KeyServiceBlockingStub keysAs(String id, String principal) {
    return KeyServiceGrpc.newBlockingStub(channelAs(id, principal))
        .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS);
  }

  /**
   * An AdminService stub for node {@code id} whose calls present {@code principal}'s certificate.
   */
  AdminServiceGrpc.AdminServiceBlockingStub adminAs(String id, String principal) {
    return AdminServiceGrpc.newBlockingStub(channelAs(id, principal))
        .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** A ComplianceService stub for node {@code id}, as the admin. */
  io.keyrotor.api.v1.ComplianceServiceGrpc.ComplianceServiceBlockingStub compliance(String id) {
    return io.keyrotor.api.v1.ComplianceServiceGrpc.newBlockingStub(channel(id))
        .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** A ComplianceService stub for node {@code id} presenting {@code principal}'s certificate. */
  io.keyrotor.api.v1.ComplianceServiceGrpc.ComplianceServiceBlockingStub complianceAs(
      String id, String principal) {
    return io.keyrotor.api.v1.ComplianceServiceGrpc.newBlockingStub(channelAs(id, principal))
        .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS);
  }

  /**
   * A channel to node {@code id} presenting a client certificate for {@code principal}, issued by
   * the cluster's CA (one per node and principal, closed with the cluster).
   */
  synchronized ManagedChannel channelAs(String id, String principal) {
    return channels
        .computeIfAbsent(id, n -> new TreeMap<>())
        .computeIfAbsent(
            principal,
            p -> TestTls.channelHolding(apiAddress(id), TestTls.issueCaller(ca(), p), caFile()));
  }

  /**
   * Credentials presenting a new client certificate of the cluster's CA for {@code principal}, for
   * a test that builds its own channel (its own connection, or transport settings of its own).
   */
  io.grpc.ChannelCredentials credentialsAs(String principal) {
    return TestTls.credentialsHolding(TestTls.issueCaller(ca(), principal), caFile());
  }

  /** A TLS channel to node {@code id} that presents no client certificate (as nobody). */
  synchronized ManagedChannel channelWithoutCertificate(String id) {
    return channels
        .computeIfAbsent(id, n -> new TreeMap<>())
        .computeIfAbsent(
            NO_CERTIFICATE, p -> TestTls.channelWithoutCertificate(apiAddress(id), caFile()));
  }

  private Path caFile() {
    return layout.tlsDirectory().resolve("ca.pem");
  }

  private synchronized DevelopmentCa ca() {
    if (ca == null) {
      ca = TestTls.clusterCa(directory);
    }
    return ca;
  }

  /**
   * Creates key {@code name} of {@code zone} through the first node (n1, n2, ...) that holds it.
   */
  void createKey(String name, String zone) {
    String holder =
        layout.regionsByNode().keySet().stream()
            .filter(id -> layout.zonesOf(id).contains(zone))
            .findFirst()
            .orElseThrow();
    keys(holder).createKey(CreateKeyRequest.newBuilder().setName(name).setZone(zone).build());
  }

  private synchronized ManagedChannel channel(String id) {
    return channels
        .computeIfAbsent(id, n -> new TreeMap<>())
        .computeIfAbsent(ADMIN_FILES, c -> TestTls.adminChannel(directory, apiAddress(id)));
  }

  String leaderId() {
    waitUntil(
        () -> nodes.values().stream().anyMatch(n -> n.raft().isReadyLeader()),
        Duration.ofSeconds(30),
        "a leader");
    return nodes.values().stream()
        .filter(n -> n.raft().isReadyLeader())
        .findFirst()
        .orElseThrow()
        .config()
        .nodeId();
  }

  List<String> followerIds() {
    String leader = leaderId();
    List<String> out = new ArrayList<>();
    for (String id : nodes.keySet()) {
      if (!id.equals(leader)) {
        out.add(id);
      }
    }
    return out;
  }

  /** Waits until every running node has registered itself with the cluster. */
  void awaitRegistered() {
    waitUntil(
        () ->
            nodes.values().stream()
                .allMatch(
                    n ->
                        n.raft().state().nodes().keySet().containsAll(nodes.keySet())
                            && n.raft().state().accessPolicy().version() > 0),
        Duration.ofSeconds(60),
        "every node registered and the bootstrap authorisation policy applied");
    awaitConvergence();
    awaitAgreedLeader();
  }

  /**
   * Waits until one running node is the ready leader and every running node knows it. A node's
   * restart can leave the others electing: registration and convergence can hold already while no
   * leader is known, and a write then meets UNAVAILABLE "no leader".
   */
  void awaitAgreedLeader() {
    waitUntil(
        () -> {
          List<KeyrotorNode> running = List.copyOf(nodes.values());
          Optional<String> leader =
              running.stream()
                  .filter(n -> n.raft().isReadyLeader())
                  .map(n -> n.config().nodeId())
                  .findFirst();
          return leader.isPresent()
              && running.stream().allMatch(n -> n.raft().leaderId().equals(leader));
        },
        Duration.ofSeconds(60),
        "a ready leader every running node knows");
  }

  /**
   * Waits until every running node applied cluster version {@code version} or later: the leader
   * raises it within {@code upgrade.check-interval} once every member registered. Membership
   * changes need version 2.
   */
  void awaitClusterVersion(int version) {
    waitUntil(
        () ->
            nodes.values().stream()
                .allMatch(n -> n.raft().state().activeClusterVersion() >= version),
        Duration.ofSeconds(60),
        "cluster version " + version + " on every running node");
  }

  /** Waits until every running node applied the same index with the same digest. */
  void awaitConvergence() {
    waitUntil(
        () ->
            Replicas.sameAppliedState(nodes.values().stream().map(KeyrotorNode::raft).toList())
                .isPresent(),
        Duration.ofSeconds(30),
        "all nodes at the same applied index and digest");
  }

  /** The authorisation policy in force, read through node {@code id} as the admin. */
  AuthorizationPolicy policy(String id) {
    return adminAs(id, "admin").getPolicy(GetPolicyRequest.getDefaultInstance());
  }

  /**
   * Sets {@code next} through node {@code id} as the admin, over the policy in force (its version
   * expected), and waits until every node applied it: later calls to any node see it.
   */
  AuthorizationPolicy setPolicy(String id, AuthorizationPolicy next) {
    AuthorizationPolicy set =
        adminAs(id, "admin")
            .setPolicy(
                SetPolicyRequest.newBuilder()
                    .setPolicy(next)
                    .setExpectedVersion(policy(id).getVersion())
                    .build());
    waitUntil(
        () ->
            nodes.values().stream()
                .allMatch(n -> n.raft().state().accessPolicy().version() == set.getVersion()),
        Duration.ofSeconds(30),
        "every node applied policy version " + set.getVersion());
    return set;
  }

  static int freeBasePort(int size) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      // Below the kernel's ephemeral range (32768+), which outgoing connections draw from.
      int base = 10_000 + ThreadLocalRandom.current().nextInt(21_800);
      boolean free = true;
      for (int i = 1; i <= size && free; i++) {
        free = isFree(base + i) && isFree(base + 100 + i) && isFree(base + 200 + i);
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("no free port range found");
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port)) {
      return socket.getLocalPort() == port;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      channels.values().forEach(byCaller -> byCaller.values().forEach(ManagedChannel::shutdownNow));
      channels.clear();
    }
    for (String id : new ArrayList<>(nodes.keySet())) {
      stop(id);
    }
  }

  /**
   * Stops {@code cluster} if a test started one, then fails the test if any node hit a fatal error
   * while it ran (an error a node only logs would otherwise pass unseen).
   */
  static void closeChecked(LocalTestCluster cluster) {
    if (cluster != null) {
      cluster.close();
      assertTrue(cluster.fatalErrors.isEmpty(), () -> "fatal errors: " + cluster.fatalErrors);
    }
  }
}
