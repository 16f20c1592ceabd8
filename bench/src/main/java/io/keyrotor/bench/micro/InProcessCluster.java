package io.keyrotor.bench.micro;

import com.google.protobuf.ByteString;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.server.KeyrotorNode;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.local.LocalClusterLayout;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Three real keyrotor nodes in this JVM, from the same configuration, certificates and software HSM
 * key files as {@code scripts/cluster up} writes, on free loopback ports, in a temporary directory.
 * The nodes serve mutual TLS and authorise every call, as any node does; benchmark clients ({@link
 * #channel}) present the cluster's {@code admin} certificate.
 */
final class InProcessCluster implements AutoCloseable {
  /** The caller every benchmark client is: the development cluster's administrator. */
  static final String CALLER = "admin";

  final Path directory;
  final List<KeyrotorNode> nodes = new ArrayList<>();
  private final TlsFiles callerFiles;

  InProcessCluster() throws Exception {
    this(Map.of());
  }

  /**
   * @param settings extra {@code node.properties} lines by node id ("n1".."n3"), for example {@code
   *     reads.follower=read-index}
   */
  InProcessCluster(Map<String, List<String>> settings) throws Exception {
    directory = Files.createTempDirectory("keyrotor-jmh");
    LocalClusterLayout layout =
        new LocalClusterLayout(directory, 3, List.of("local"), freeBasePort(), "127.0.0.1");
    layout.write();
    callerFiles = TlsFiles.inDirectory(layout.tlsDirectory(), CALLER);
    for (int i = 1; i <= 3; i++) {
      Path properties = directory.resolve("n" + i).resolve("node.properties");
      for (String line : settings.getOrDefault("n" + i, List.of())) {
        Files.writeString(properties, line + "\n", StandardOpenOption.APPEND);
      }
      NodeConfig config = NodeConfig.load(properties);
      nodes.add(
          KeyrotorNode.start(
              config,
              Clock.systemUTC(),
              (message, cause) -> System.err.println("FATAL in benchmark node: " + message)));
    }
  }

  /** The node that leads and has applied its first entry of the term (waits up to 30 s). */
  KeyrotorNode leader() throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      for (KeyrotorNode node : nodes) {
        if (node.raft().isReadyLeader() && node.raft().state().accessPolicy().version() > 0) {
          return node;
        }
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("no leader in 30 s");
  }

  KeyrotorNode follower(KeyrotorNode leader) {
    return nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
  }

  /** Waits until every node has applied what the leader had applied when called (up to 30 s). */
  void awaitConvergence() throws InterruptedException {
    long target = leader().raft().state().appliedPosition().index();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (nodes.stream().anyMatch(n -> n.raft().state().appliedPosition().index() < target)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the nodes did not reach index " + target + " in 30 s");
      }
      Thread.sleep(20);
    }
  }

  /** Node "n1".."n3". */
  KeyrotorNode node(String id) {
    return nodes.get(Integer.parseInt(id.substring(1)) - 1);
  }

  /**
   * Makes {@code id} the leader (transferring leadership if needed) and waits until it is ready.
   */
  KeyrotorNode lead(String id) throws InterruptedException {
    KeyrotorNode target = node(id);
    if (leader() != target) {
      target.raft().transferLeadership(id, 10_000);
    }
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!target.raft().isReadyLeader()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(id + " did not become a ready leader in 30 s");
      }
      Thread.sleep(50);
    }
    return target;
  }

  /**
   * A channel to {@code address} ({@code 127.0.0.1:port}) over mutual TLS as {@value #CALLER}: the
   * cluster's {@code tls/admin.pem}, trusting its {@code tls/ca.pem}.
   */
  ManagedChannel channel(String address) {
    try {
      return Grpc.newChannelBuilder(
              address,
              TlsChannelCredentials.newBuilder()
                  .keyManager(callerFiles.certificate().toFile(), callerFiles.privateKey().toFile())
                  .trustManager(callerFiles.trustedCertificates().toFile())
                  .build())
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the benchmark caller's certificate", e);
    }
  }

  /**
   * Creates the key {@code keyName} through the API at {@code address} and returns 32 zero bytes
   * encrypted under it with {@code context}: the data key that the Decrypt benchmarks decrypt.
   */
  ByteString encryptedUnderNewKey(String address, String keyName, Map<String, String> context) {
    ManagedChannel channel = channel(address);
    try {
      KeyServiceGrpc.KeyServiceBlockingStub keys =
          KeyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      keys.createKey(CreateKeyRequest.newBuilder().setName(keyName).build());
      return keys.encrypt(
              EncryptRequest.newBuilder()
                  .setKeyName(keyName)
                  .setPlaintext(ByteString.copyFrom(new byte[32]))
                  .putAllContext(context)
                  .build())
          .getCiphertext();
    } finally {
      channel.shutdownNow();
    }
  }

  @Override
  public void close() throws IOException {
    nodes.forEach(KeyrotorNode::close);
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** A base port P with P+1..P+3 and P+101..P+103 free. */
  private static int freeBasePort() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = 20_000 + ThreadLocalRandom.current().nextInt(20_000);
      if (free(base + 1)
          && free(base + 2)
          && free(base + 3)
          && free(base + 101)
          && free(base + 102)
          && free(base + 103)) {
        return base;
      }
    }
    throw new IOException("no free ports for an in-process cluster");
  }

  private static boolean free(int port) {
    try (ServerSocket socket = new ServerSocket(port)) {
      socket.setReuseAddress(true);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
