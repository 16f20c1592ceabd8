package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.client.KeyrotorClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code keyrotor agent} as a separate process against a real 3-node cluster: applications on its
 * Unix socket get the data plane, repeated GenerateDataKey and Decrypt calls come from the SDK's
 * caches, a disable, a destroy and a compromise rotation stop a cached key from being served within
 * a bounded time (the agents cache for an hour, so without invalidation by events the bound would
 * be missed), and a cached key keeps decrypting through a full outage up to {@code --max-stale},
 * never beyond it: the agent whose event stream's node stopped goes on, and its log says the stream
 * broke and resumes. A failed run keeps its directory with the agents' logs.
 */
class KeyAgentIT {
  /** The upper bound on event-driven invalidation; generous for a loaded machine. */
  private static final Duration INVALIDATION_BOUND = Duration.ofMinutes(1);

  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme");

  /** Kept when a test fails: the agents' logs ({@code agent-NAME.log}) say why an agent stopped. */
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path work;

  /** On a failure, prints where the agents' logs are kept and the end of each. */
  @RegisterExtension
  final TestWatcher agentLogs =
      new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
          try (var logs = Files.list(work)) {
            for (Path log :
                logs.filter(p -> p.getFileName().toString().startsWith("agent-")).toList()) {
              List<String> lines = ScriptedCluster.read(log).lines().toList();
              System.out.println(
                  "KeyAgentIT failed; "
                      + log
                      + " (kept) ends with:\n  "
                      + String.join(
                          "\n  ", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
            }
          } catch (java.io.IOException e) {
            System.out.println("KeyAgentIT failed; its directory " + work + ": " + e);
          }
        }
      };

  private ScriptedCluster cluster;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<EventLoopGroup> groups = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel channel : channels) {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    for (EventLoopGroup group : groups) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A started agent: its stub over the socket and its metrics port. */
  private record Agent(
      KeyServiceGrpc.KeyServiceBlockingStub stub, Path socket, Path log, int metricsPort) {
    long metric(String name) throws Exception {
      String body =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      return body.lines()
          .filter(line -> line.startsWith(name + " "))
          .mapToLong(line -> Long.parseLong(line.substring(name.length() + 1).strip()))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no metric " + name + " in\n" + body));
    }
  }

  private Agent startAgent(String name, String... options) throws Exception {
    Path socket = work.resolve("run-" + name).resolve("agent.sock");
    Path log = work.resolve("agent-" + name + ".log");
    List<String> args = new ArrayList<>(List.of("--deadline", "3s", "--json", "agent"));
    args.addAll(List.of("--socket", socket.toString(), "--metrics-port", "0"));
    args.addAll(List.of(options));
    cluster.keyrotor(log, args.toArray(String[]::new));
    ScriptedCluster.await(
        Duration.ofMinutes(3),
        "agent " + name + " started: " + ScriptedCluster.read(log),
        () -> ScriptedCluster.read(log).contains("\"metrics_port\""));
    String line =
        ScriptedCluster.read(log)
            .lines()
            .filter(l -> l.contains("\"metrics_port\""))
            .findFirst()
            .get();
    JsonObject started =
        JsonParser.parseString(line.substring(line.indexOf('{'))).getAsJsonObject();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    groups.add(group);
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(group)
            .usePlaintext()
            .build();
    channels.add(channel);
    return new Agent(
        KeyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES),
        socket,
        log,
        started.get("metrics_port").getAsInt());
  }

  private static GenerateDataKeyResponse dataKey(Agent agent, String key) {
    return agent.stub.generateDataKey(
        GenerateDataKeyRequest.newBuilder().setKeyName(key).putAllContext(CONTEXT).build());
  }

  private static DecryptResponse decrypt(Agent agent, ByteString ciphertext) {
    return agent.stub.decrypt(
        DecryptRequest.newBuilder().setCiphertext(ciphertext).putAllContext(CONTEXT).build());
  }

  private static void rotateNow(KeyrotorClient admin, String key, RotationReason reason) {
    admin.rotateKey(
        RotateKeyRequest.newBuilder()
            .setName(key)
            .setActivationDelay(com.google.protobuf.Duration.getDefaultInstance())
            .setReason(reason)
            .build());
  }

  /**
   * Decrypts through the agent until it refuses, and returns how long that took after {@code
   * since}; fails when it still serves the key after {@link #INVALIDATION_BOUND}.
   */
  private static Duration untilRefused(Agent agent, ByteString ciphertext, long since)
      throws Exception {
    long[] refusedAt = new long[1];
    ScriptedCluster.await(
        INVALIDATION_BOUND,
        "the agent still decrypts with a key the cluster refuses",
        () -> {
          try {
            decrypt(agent, ciphertext);
            return false;
          } catch (StatusRuntimeException e) {
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e::toString);
            refusedAt[0] = System.nanoTime();
            return true;
          }
        });
    return Duration.ofNanos(refusedAt[0] - since);
  }

  /** The agent's answer when the cluster cannot be reached and nothing may be served. */
  private static boolean unreachable(StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
  }

  @Test
  void agent_cachesDropsOnEventsAndServesStaleDuringOutage() throws Exception {
    cluster = ScriptedCluster.up(work);
    try (KeyrotorClient admin = cluster.client("admin")) {
      for (String key : List.of("orders", "ledger", "vault", "archive")) {
        admin.createKey(key);
      }
      Agent agent = startAgent("a", "--max-age", "1h");

      // The socket is owner-only, in an owner-only directory.
      assertEquals(
          "rwx------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(agent.socket.getParent())));
      assertEquals(
          "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(agent.socket)));

      // GenerateDataKey twice: the second is the cached data key.
      GenerateDataKeyResponse first = dataKey(agent, "orders");
      GenerateDataKeyResponse second = dataKey(agent, "orders");
      assertEquals(32, first.getPlaintext().size());
      assertEquals(first.getWrappedDataKey(), second.getWrappedDataKey());
      assertEquals(first.getPlaintext(), second.getPlaintext());
      assertEquals(1, agent.metric("keyrotor_agent_data_key_hits_total"));
      assertEquals(1, agent.metric("keyrotor_agent_data_key_misses_total"));

      // Decrypt twice: the second from the decryption cache; both give the data key.
      assertEquals(first.getPlaintext(), decrypt(agent, first.getWrappedDataKey()).getPlaintext());
      assertEquals(first.getPlaintext(), decrypt(agent, first.getWrappedDataKey()).getPlaintext());
      assertEquals(1, agent.metric("keyrotor_agent_decrypt_hits_total"));

      // Encrypt and ReEncrypt go to the cluster.
      byte[] secret = "card 4111".getBytes(StandardCharsets.UTF_8);
      EncryptResponse sealed =
          agent.stub.encrypt(
              EncryptRequest.newBuilder()
                  .setKeyName("orders")
                  .setPlaintext(ByteString.copyFrom(secret))
                  .putAllContext(CONTEXT)
                  .build());
      ReEncryptResponse moved =
          agent.stub.reEncrypt(
              ReEncryptRequest.newBuilder()
                  .setCiphertext(sealed.getCiphertext())
                  .putAllContext(CONTEXT)
                  .setDestinationKeyName("ledger")
                  .build());
      assertEquals("ledger", moved.getKeyName());
      assertArrayEquals(secret, decrypt(agent, moved.getCiphertext()).getPlaintext().toByteArray());

      // An error from the cluster reaches the application with its code and reason.
      StatusRuntimeException unknown =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class, () -> dataKey(agent, "no-such-key"));
      assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
      assertTrue(
          io.grpc.protobuf.StatusProto.fromThrowable(unknown).getDetailsList().stream()
              .anyMatch(any -> any.toString().contains("KEY_NOT_FOUND")),
          unknown::toString);

      // Disable: a cached version-1 data key of "ledger" stops decrypting.
      ByteString ledgerKey = dataKey(agent, "ledger").getWrappedDataKey();
      decrypt(agent, ledgerKey);
      rotateNow(admin, "ledger", RotationReason.ROTATION_REASON_MANUAL);
      assertEquals(32, decrypt(agent, ledgerKey).getPlaintext().size(), "decrypt-only still");
      long disabledAt = System.nanoTime();
      admin.disableKeyVersion("ledger", 1);
      Duration afterDisable = untilRefused(agent, ledgerKey, disabledAt);

      // Compromise rotation: version 1 of "vault" is disabled by it.
      ByteString vaultKey = dataKey(agent, "vault").getWrappedDataKey();
      decrypt(agent, vaultKey);
      long compromisedAt = System.nanoTime();
      rotateNow(admin, "vault", RotationReason.ROTATION_REASON_COMPROMISE);
      Duration afterCompromise = untilRefused(agent, vaultKey, compromisedAt);
      assertNotEquals(
          dataKey(agent, "vault").getWrappedDataKey(), vaultKey, "a new data key after it");

      // Destroy scheduled: version 1 of "archive".
      ByteString archiveKey = dataKey(agent, "archive").getWrappedDataKey();
      decrypt(agent, archiveKey);
      rotateNow(admin, "archive", RotationReason.ROTATION_REASON_MANUAL);
      long destroyAt = System.nanoTime();
      admin.scheduleKeyVersionDestroy("archive", 1);
      Duration afterDestroy = untilRefused(agent, archiveKey, destroyAt);
      assertTrue(agent.metric("keyrotor_agent_invalidated_entries_total") >= 3);
      System.out.printf(
          "KeyAgentIT: cached key refused %d ms after the disable, %d ms after the compromise"
              + " rotation, %d ms after the destroy was scheduled (bound %d s)%n",
          afterDisable.toMillis(),
          afterCompromise.toMillis(),
          afterDestroy.toMillis(),
          INVALIDATION_BOUND.toSeconds());

      // Outage. Agent "b" may decrypt stale keys for an hour, agent "c" for one second.
      Agent tolerant = startAgent("b", "--max-age", "1s", "--max-stale", "1h");
      Agent strict = startAgent("c", "--max-age", "1s", "--max-stale", "1s");
      GenerateDataKeyResponse ordersKey = dataKey(tolerant, "orders");
      assertEquals(
          ordersKey.getPlaintext(),
          decrypt(tolerant, ordersKey.getWrappedDataKey()).getPlaintext());
      long strictCachedAt = System.nanoTime();
      assertEquals(
          ordersKey.getPlaintext(), decrypt(strict, ordersKey.getWrappedDataKey()).getPlaintext());
      ByteString neverCached = dataKey(strict, "orders").getWrappedDataKey();

      cluster.down();
      Thread.sleep(
          2_500); // a lower bound: every entry is now past max-age, and strict's past max-stale
      assertTrue(System.nanoTime() - strictCachedAt > Duration.ofSeconds(2).toNanos());

      // Its event stream's node stopped: the agent goes on (not "a cache nobody invalidates"),
      // resuming from its cursor once a node answers, and says so in its log.
      assertEquals(1, tolerant.metric("keyrotor_agent_event_stream_up"));
      assertTrue(tolerant.metric("keyrotor_agent_event_stream_interruptions_total") >= 1);
      assertTrue(
          ScriptedCluster.read(tolerant.log).contains("the key event stream broke ("),
          () -> "agent b's log: " + ScriptedCluster.read(tolerant.log));
      assertEquals(
          ordersKey.getPlaintext(),
          decrypt(tolerant, ordersKey.getWrappedDataKey()).getPlaintext(),
          "served stale through the outage");
      assertTrue(tolerant.metric("keyrotor_agent_stale_decrypts_total") >= 1);
      StatusRuntimeException beyondStale =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class, () -> decrypt(strict, ordersKey.getWrappedDataKey()));
      assertTrue(unreachable(beyondStale), beyondStale::toString);
      assertEquals(0, strict.metric("keyrotor_agent_stale_decrypts_total"));
      StatusRuntimeException uncached =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class, () -> decrypt(tolerant, neverCached));
      assertTrue(unreachable(uncached), uncached::toString);
    }
  }
}
