package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.Gauge;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.TransportMode;
import io.keyrotor.server.transport.TransportRefusals;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.IssuedCertificate;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-node cluster as scripts/cluster writes it, serving mutual TLS with its development CA: what a
 * caller without an acceptable certificate observes from a real node, and the transport security
 * every node reports in the cluster status (gathered node to node over mutual TLS), with the
 * warning of a node whose certificate expires within tls.expiry-warning.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TransportSecurityIT {
  private static final Clock CLOCK = Clock.systemUTC();

  private LocalTestCluster cluster;
  private Path tls;
  private Path callers;
  private IssuedCertificate expiringNode;

  @BeforeAll
  void start(@TempDir Path directory) throws Exception {
    cluster = new LocalTestCluster(directory.resolve("cluster"), 3, List.of("local"));
    tls = cluster.directory.resolve("tls");
    callers = directory.resolve("callers");
    Files.createDirectories(callers);
    // n1 gets a certificate of the cluster's CA that expires in 5 days (inside the default 30).
    expiringNode = ca().issueNode("n1", List.of("127.0.0.1", "localhost"), Duration.ofDays(5));
    TlsFiles n1 = TlsFiles.inDirectory(tls, "n1");
    expiringNode.write(n1.certificate(), n1.privateKey());
    cluster.startAll();
  }

  @AfterAll
  void stop() {
    LocalTestCluster.closeChecked(cluster);
  }

  private DevelopmentCa ca() throws IOException {
    return DevelopmentCa.load(
        tls.resolve("ca.pem"),
        tls.resolve("ca-key.pem"),
        DevelopmentCa.DEFAULT_TRUST_DOMAIN,
        CLOCK);
  }

  private ChannelCredentials holding(String name, IssuedCertificate certificate)
      throws IOException {
    TlsFiles files = TlsFiles.inDirectory(callers, name);
    certificate.write(files.certificate(), files.privateKey());
    return TlsChannelCredentials.newBuilder()
        .keyManager(files.certificate().toFile(), files.privateKey().toFile())
        .trustManager(tls.resolve("ca.pem").toFile())
        .build();
  }

  /** What ListKeys on n2 answers a caller with {@code credentials}. */
  private StatusRuntimeException listKeysRefused(ChannelCredentials credentials) {
    ManagedChannel channel = Grpc.newChannelBuilder(cluster.apiAddress("n2"), credentials).build();
    try {
      return assertThrows(
          StatusRuntimeException.class,
          () ->
              KeyServiceGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(20, TimeUnit.SECONDS)
                  .listKeys(ListKeysRequest.getDefaultInstance()));
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void noClientCertificate_unauthenticated() throws Exception {
    StatusRuntimeException e =
        listKeysRefused(
            TlsChannelCredentials.newBuilder()
                .trustManager(tls.resolve("ca.pem").toFile())
                .build());
    TransportRefusals.assertNoClientCertificate(e);
    assertEquals("UNAUTHENTICATED", GrpcErrors.reason(e), "the ErrorInfo's catalogue reason");
  }

  @Test
  void certificateOfAnotherCa_unauthenticated() throws Exception {
    DevelopmentCa other =
        DevelopmentCa.create(
            "another cluster's CA", DevelopmentCa.DEFAULT_TRUST_DOMAIN, Duration.ofDays(1), CLOCK);
    StatusRuntimeException e =
        listKeysRefused(holding("other", other.issueClient("admin", Duration.ofDays(1))));
    TransportRefusals.assertAdminOfAnotherCa(e, "another cluster's CA");
  }

  @Test
  void expiredCertificate_unauthenticated() throws Exception {
    Instant now = CLOCK.instant();
    IssuedCertificate expired =
        ca().issue(
                new DevelopmentCa.Request(
                    "admin",
                    List.of(),
                    List.of(),
                    now.minus(Duration.ofDays(30)),
                    now.minus(Duration.ofMinutes(1)),
                    false));
    TransportRefusals.assertAdminExpired(listKeysRefused(holding("expired", expired)), expired);
  }

  @Test
  void serviceCertificate_authenticated() {
    ManagedChannel channel =
        Grpc.newChannelBuilder(cluster.apiAddress("n3"), TestTls.credentials(tls, "service"))
            .build();
    try {
      KeyServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(20, TimeUnit.SECONDS)
          .listKeys(ListKeysRequest.getDefaultInstance());
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void clusterStatus_showsMutualTlsAndTheExpiryWarningPerNode() throws Exception {
    ClusterStatus status =
        cluster.admin("n2").getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    Map<String, NodeStatus> byId = new TreeMap<>();
    status.getNodesList().forEach(node -> byId.put(node.getId(), node));
    assertEquals(List.of("n1", "n2", "n3"), List.copyOf(byId.keySet()));
    for (NodeStatus node : byId.values()) {
      // n1 and n3 answered n2 over mutual TLS with n2's node certificate.
      assertTrue(node.getRole() != NodeRole.NODE_ROLE_UNREACHABLE, node.toString());
      assertEquals(
          TransportMode.TRANSPORT_MODE_MUTUAL_TLS,
          node.getTransportSecurity().getMode(),
          node.toString());
      assertEquals(
          "CN=" + node.getId() + ",O=keyrotor",
          node.getTransportSecurity().getCertificateSubject());
      assertEquals("", node.getTransportSecurity().getLastReloadFailure());
    }
    NodeStatus n1 = byId.get("n1");
    assertEquals(
        expiringNode.certificate().getSerialNumber().toString(16),
        n1.getTransportSecurity().getCertificateSerial());
    assertTrue(
        n1.getTransportSecurity()
            .getExpiryWarning()
            .startsWith(
                "the node certificate expires at "
                    + expiringNode.certificate().getNotAfter().toInstant()),
        n1.getTransportSecurity().getExpiryWarning());
    assertEquals("", byId.get("n2").getTransportSecurity().getExpiryWarning());
    assertEquals("", byId.get("n3").getTransportSecurity().getExpiryWarning());

    Gauge<?> expiry =
        cluster
            .nodes
            .get("n1")
            .metrics()
            .registry()
            .getGauges()
            .get("tls.certificate-expiry-seconds");
    double seconds = ((Number) expiry.getValue()).doubleValue();
    assertTrue(
        seconds > Duration.ofDays(5).minusHours(1).toSeconds()
            && seconds <= Duration.ofDays(5).toSeconds(),
        "n1's certificate expires in " + seconds + " s");
  }
}
