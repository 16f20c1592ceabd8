package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.GrpcErrors;
import io.keyrotor.client.testing.OpenResources;
import io.keyrotor.client.testing.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transport security of the SDK against real gRPC servers over real TLS: mutual TLS with the
 * development CA's certificates, servers the client must refuse, a client certificate rotated on
 * disk while calls go on, plaintext only on loopback, and leader hints only to the cluster's own
 * addresses.
 */
class KeyrotorClientTlsTest {

  private static final String ADMIN = "CN=admin,O=keyrotor";

  @TempDir Path directory;

  @AutoClose private final OpenResources toClose = new OpenResources();

  private <T extends AutoCloseable> T closing(T resource) {
    return toClose.add(resource);
  }

  private static FakeKeyService keysWith(String name) {
    return new FakeKeyService().put(Key.newBuilder().setName(name).setZone("eu").build());
  }

  @Test
  void mutualTls_callSucceeds_andTheServerSeesTheClientCertificate() {
    FakeNode node = closing(FakeNode.start(keysWith("payments"), new FakeAdminService()));
    KeyrotorClient client =
        closing(
            KeyrotorClient.builder()
                .endpoints(node.address())
                .clusterDirectory(TestPki.shared().clusterDirectory(), "admin")
                .build());

    assertEquals("eu", client.getKey("payments").getZone());
    assertEquals(List.of(ADMIN), node.callerSubjects());
  }

  @Test
  void explicitFiles_serviceIdentity_isWhatTheServerSees() {
    TestPki pki = TestPki.shared();
    FakeNode node = closing(FakeNode.start(keysWith("payments"), new FakeAdminService()));
    KeyrotorClient client =
        closing(
            KeyrotorClient.builder()
                .endpoints("localhost:" + node.port()) // the node certificate names localhost too
                .trustedCertificates(pki.caCertificate())
                .clientCertificate(pki.certificate("service"), pki.privateKey("service"))
                .build());

    client.getKey("payments");
    assertEquals(List.of("CN=service,O=keyrotor"), node.callerSubjects());
  }

  @Test
  void serverWithCertificateFromAnotherCa_isRefused() {
    TestPki other = TestPki.create(directory.resolve("other"));
    FakeNode impostor = closing(FakeNode.start(other, null, keysWith("payments")));
    KeyrotorClient client = closing(shortClient(impostor.address()).build());

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.getKey("payments"));

    assertEquals(Status.Code.UNAVAILABLE, error.code());
    assertTrue(
        error.getMessage().contains("(TLS handshake with " + impostor.address() + " failed: "),
        error.getMessage());
    assertEquals(List.of(), impostor.callerSubjects(), "no call reached the impostor");
  }

  @Test
  void serverCertificateForAnotherHost_isRefused() throws IOException {
    TestPki pki = TestPki.create(directory.resolve("cluster"));
    // Signed by the trusted CA, but for another host than the 127.0.0.1 the client dials.
    pki.write("node", pki.ca().issueNode("n1", List.of("keyrotor.invalid"), Duration.ofHours(1)));
    FakeNode node = closing(FakeNode.start(pki, null, keysWith("payments")));
    KeyrotorClient client =
        closing(
            shortClient(node.address()).clusterDirectory(pki.clusterDirectory(), "admin").build());

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.getKey("payments"));

    assertEquals(Status.Code.UNAVAILABLE, error.code());
    assertEquals(List.of(), node.callerSubjects());
  }

  @Test
  void serverSpeakingOnlyTls12_isRefused() throws Exception {
    TestPki pki = TestPki.shared();
    FakeKeyService keys = keysWith("payments");
    // The same trusted node certificate, but the server offers TLS 1.2 only.
    SslContext tls12 =
        GrpcSslContexts.forServer(pki.certificate("node").toFile(), pki.privateKey("node").toFile())
            .trustManager(pki.caCertificate().toFile())
            .clientAuth(ClientAuth.REQUIRE)
            .protocols("TLSv1.2")
            .build();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .sslContext(tls12)
            .addService(keys)
            .build()
            .start();
    try {
      String address = InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.getPort();
      KeyrotorClient client = closing(shortClient(address).build());

      KeyrotorException error =
          assertThrows(KeyrotorException.class, () -> client.getKey("payments"));

      assertEquals(Status.Code.UNAVAILABLE, error.code());
      assertTrue(error.getMessage().contains("TLS handshake with " + address), error.getMessage());
      assertTrue(error.getMessage().contains("require TLSv1.3"), error.getMessage());
      assertEquals(List.of(), keys.received(), "no call reached the TLS 1.2 server");
    } finally {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void clientCertificateSwappedOnDisk_isUsedByTheNextConnection_withoutAFailedCall()
      throws IOException {
    TestPki pki = TestPki.create(directory.resolve("cluster"));
    // The server ends each connection after about a second (gracefully; gRPC's shortest maximum
    // age), so the client keeps opening new ones while the calls go on.
    FakeNode node = closing(FakeNode.start(pki, Duration.ofSeconds(1), keysWith("payments")));
    KeyrotorClient client =
        closing(
            KeyrotorClient.builder()
                .endpoints(node.address())
                .clusterDirectory(pki.clusterDirectory(), "admin")
                .credentialsRefresh(Duration.ofMillis(50))
                // Every call is counted once at the server: no hedged second read.
                .hedgeReadsAfter(Duration.ZERO)
                .build());
    String rotated = "CN=admin-rotated,O=keyrotor";

    int calls = 0;
    boolean swapped = false;
    long giveUpAt = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    // Every call must succeed (getKey throws otherwise); bounded by count and time.
    while (calls < 5_000 && System.nanoTime() < giveUpAt) {
      client.getKey("payments");
      calls++;
      if (calls == 20) {
        pki.write("admin", pki.ca().issueClient("admin-rotated", Duration.ofHours(1)));
        swapped = true;
      }
      if (swapped && node.callerSubjects().contains(rotated)) {
        break;
      }
    }

    List<String> seen = node.callerSubjects();
    assertEquals(calls, seen.size(), "every call reached the server");
    assertTrue(seen.contains(rotated), "the rotated certificate was never used: " + seen.size());
    assertEquals(ADMIN, seen.get(0));
    int firstRotated = seen.indexOf(rotated);
    assertTrue(firstRotated >= 20, "rotated before the swap: " + firstRotated);
    assertTrue(client.lastTlsReloadFailure().isEmpty(), client.lastTlsReloadFailure().toString());
  }

  /** Why building a client of {@code clusterDirectory} as its admin is refused. */
  private static IllegalArgumentException refusedAtBuild(Path clusterDirectory) {
    return assertThrows(
        IllegalArgumentException.class,
        () ->
            KeyrotorClient.builder()
                .endpoints("127.0.0.1:7101")
                .clusterDirectory(clusterDirectory, "admin")
                .build());
  }

  @Test
  void keyThatIsNotTheCertificates_isRefusedAtBuild() throws IOException {
    TestPki pki = TestPki.create(directory.resolve("cluster"));
    Files.copy(
        pki.privateKey("service"),
        pki.privateKey("admin"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    IllegalArgumentException error = refusedAtBuild(pki.clusterDirectory());
    assertTrue(
        error.getMessage().contains("does not belong to the certificate"), error.getMessage());
  }

  @Test
  void missingTlsFile_isRefusedAtBuild_namingTheFile() {
    Path missing = directory.resolve("nowhere");

    IllegalArgumentException error = refusedAtBuild(missing);
    assertTrue(error.getMessage().contains(missing.resolve("tls").toString()), error.getMessage());
  }

  @Test
  void builderWithoutTransportSecurity_failsSayingWhatToConfigure() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> KeyrotorClient.builder().endpoints("127.0.0.1:7101").build());

    assertTrue(
        error.getMessage().startsWith("no transport security configured"), error.getMessage());
    assertTrue(error.getMessage().contains("clusterDirectory(dir, identity)"), error.getMessage());
    assertTrue(error.getMessage().contains("insecurePlaintext()"), error.getMessage());
  }

  @Test
  void insecurePlaintext_forNonLoopbackEndpoint_isRefused() {
    for (String remote : List.of("10.0.0.1:7101", "keyrotor.example.com:7101", "[2001:db8::1]:1")) {
      IllegalArgumentException error =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  KeyrotorClient.builder()
                      .endpoints("127.0.0.1:7101", remote)
                      .insecurePlaintext()
                      .build(),
              remote);
      assertTrue(error.getMessage().contains(remote + " is not one"), error.getMessage());
    }
  }

  @Test
  void insecurePlaintext_onLoopback_talksToAPlaintextServer() {
    FakeNode plain =
        closing(FakeNode.start(InsecureServerCredentials.create(), null, keysWith("payments")));
    KeyrotorClient client =
        closing(
            KeyrotorClient.builder()
                .endpoints(plain.address(), "localhost:1", "[::1]:2")
                .insecurePlaintext()
                .build());

    assertEquals("eu", client.getKey("payments").getZone());
    assertEquals(List.of("none"), plain.callerSubjects());
  }

  @Test
  void plaintextAndTls_together_areRefused() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> TestPki.clientBuilder().endpoints("127.0.0.1:7101").insecurePlaintext().build());
    assertTrue(error.getMessage().startsWith("choose one kind"), error.getMessage());
  }

  @Test
  void leaderHintToAnAddressOutsideTheCluster_isNeverConnectedTo() throws Exception {
    try (AcceptCounter foreign = new AcceptCounter()) {
      FakeKeyService followerKeys =
          keysWith("payments").failEvery(request -> GrpcErrors.notLeader(foreign.address(), "n9"));
      FakeNode follower = closing(FakeNode.start(followerKeys, new FakeAdminService()));
      FakeKeyService leaderKeys = keysWith("payments");
      FakeNode leader = closing(FakeNode.start(leaderKeys, new FakeAdminService()));
      KeyrotorClient client = closing(shortClient(follower.address(), leader.address()).build());

      assertEquals("eu", client.getKey("payments").getZone());
      assertEquals("eu", client.getKey("payments").getZone());

      assertEquals(0, foreign.accepted(), "the client connected to the hinted address");
      assertEquals(1, followerKeys.received(GetKeyRequest.class).size());
      assertEquals(2, leaderKeys.received(GetKeyRequest.class).size());
      assertEquals(1, client.ignoredLeaderHints());
      assertFalse(client.knownLeader().map(foreign.address()::equals).orElse(false));
    }
  }

  @Test
  void leaderHintToAnAddressOutsideTheCluster_withNoOtherEndpoint_givesUpWithoutConnecting()
      throws Exception {
    try (AcceptCounter foreign = new AcceptCounter()) {
      FakeNode follower =
          closing(
              FakeNode.start(
                  new FakeKeyService()
                      .failEvery(request -> GrpcErrors.notLeader(foreign.address(), "n9"))));
      KeyrotorClient client = closing(shortClient(follower.address()).build());

      KeyrotorException error =
          assertThrows(KeyrotorException.class, () -> client.getKey("payments"));

      assertEquals("NOT_LEADER", error.reason());
      assertEquals(0, foreign.accepted());
      assertTrue(client.ignoredLeaderHints() >= 1);
    }
  }

  @Test
  void watch_leaderHintToAnAddressOutsideTheCluster_isNeverConnectedTo() throws Exception {
    try (AcceptCounter foreign = new AcceptCounter()) {
      FakeKeyService followerKeys =
          new FakeKeyService()
              .failEvery(
                  request ->
                      request instanceof WatchKeyEventsRequest
                          ? GrpcErrors.notLeader(foreign.address(), "n9")
                          : null);
      FakeKeyService leaderKeys =
          new FakeKeyService()
              .events(
                  KeyEvent.newBuilder()
                      .setCursor("7.0")
                      .setType(KeyEventType.KEY_EVENT_TYPE_ACTIVATED)
                      .setKeyName("payments")
                      .setLogIndex(7)
                      .build());
      FakeNode follower = closing(FakeNode.start(followerKeys));
      FakeNode leader = closing(FakeNode.start(leaderKeys));
      KeyrotorClient client = closing(shortClient(follower.address(), leader.address()).build());
      CountDownLatch one = new CountDownLatch(1);

      try (KeyEventSubscription subscription =
          client.watchKeyEvents(
              WatchKeyEventsRequest.getDefaultInstance(), event -> one.countDown())) {
        assertTrue(one.await(10, TimeUnit.SECONDS), "no event from the second node");
        assertEquals("7.0", subscription.lastCursor());
      }

      assertEquals(0, foreign.accepted(), "the watch connected to the hinted address");
      assertEquals(1, followerKeys.received(WatchKeyEventsRequest.class).size());
      assertEquals(1, client.ignoredLeaderHints());
    }
  }

  @Test
  void leaderHintToAnAddressTheClusterListed_isFollowed() {
    FakeKeyService leaderKeys = keysWith("payments");
    FakeNode leader = closing(FakeNode.start(leaderKeys, new FakeAdminService()));
    FakeAdminService followerAdmin = new FakeAdminService();
    FakeKeyService followerKeys =
        keysWith("payments").failEvery(request -> GrpcErrors.notLeader(leader.address(), "n2"));
    FakeNode follower = closing(FakeNode.start(followerKeys, followerAdmin));
    // No leader named (an election), but both members listed.
    followerAdmin.clusterStatus(
        ClusterStatus.newBuilder()
            .addNodes(
                FakeAdminService.member("n1", NodeRole.NODE_ROLE_FOLLOWER, follower.address()))
            .addNodes(FakeAdminService.member("n2", NodeRole.NODE_ROLE_FOLLOWER, leader.address()))
            .build());
    KeyrotorClient client = closing(shortClient(follower.address()).build());

    client.clusterStatus();
    assertEquals("eu", client.getKey("payments").getZone());

    assertEquals(1, leaderKeys.received(GetKeyRequest.class).size());
    assertEquals(0, client.ignoredLeaderHints());
    assertEquals(leader.address(), client.knownLeader().orElseThrow());
  }

  /**
   * A client of the shared test certificates with short waits. Hedging is off: these tests count
   * the calls each server receives, and a hedged read on a loaded machine would add one.
   */
  private static KeyrotorClient.Builder shortClient(String... endpoints) {
    return TestPki.clientBuilder()
        .hedgeReadsAfter(Duration.ZERO)
        .endpoints(endpoints)
        .deadline(Duration.ofSeconds(3))
        .attemptTimeout(Duration.ofSeconds(1))
        .backoff(Duration.ofMillis(5), Duration.ofMillis(20))
        .leaderDiscovery(false);
  }

  /** A loopback socket that counts the connections made to it, to show none is. */
  private static final class AcceptCounter implements AutoCloseable {
    private final ServerSocket socket;
    private final AtomicInteger accepted = new AtomicInteger();
    private final Thread acceptor;

    AcceptCounter() throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      acceptor =
          new Thread(
              () -> {
                while (!socket.isClosed()) {
                  try {
                    Socket connection = socket.accept();
                    accepted.incrementAndGet();
                    connection.close();
                  } catch (IOException e) {
                    return; // closed
                  }
                }
              },
              "accept-counter");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    String address() {
      return InetAddress.getLoopbackAddress().getHostAddress() + ":" + socket.getLocalPort();
    }

    int accepted() {
      return accepted.get();
    }

    @Override
    public void close() throws IOException {
      socket.close();
      try {
        acceptor.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
