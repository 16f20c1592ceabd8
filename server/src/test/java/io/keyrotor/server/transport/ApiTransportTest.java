package io.keyrotor.server.transport;

import static io.keyrotor.server.transport.TlsTestServer.whoAmI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.TransportMode;
import io.keyrotor.api.v1.TransportSecurity;
import io.keyrotor.server.access.Principal;
import io.keyrotor.server.api.ApiErrors;
import io.keyrotor.server.config.TlsSettings;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.IssuedCertificate;
import io.keyrotor.tls.PemFiles;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API port's mutual TLS over real sockets on loopback: who a caller is, and exactly what a
 * caller without an acceptable certificate observes.
 */
class ApiTransportTest {
  private static final Clock CLOCK = Clock.systemUTC();

  @TempDir Path directory;
  private DevelopmentCa ca;
  private TlsFiles nodeFiles;
  private TlsTestServer server;
  private ManagedChannel channel;

  @BeforeEach
  void nodeWithMutualTls() throws Exception {
    ca =
        DevelopmentCa.create(
            "test CA", DevelopmentCa.DEFAULT_TRUST_DOMAIN, Duration.ofDays(10), CLOCK);
    nodeFiles = TlsFiles.inDirectory(directory.resolve("node"), "n1");
    Files.createDirectories(directory.resolve("node"));
    ca.write(nodeFiles.trustedCertificates(), directory.resolve("ca-key.pem"));
    ca.issueNode("n1", List.of("127.0.0.1", "localhost"), Duration.ofDays(5))
        .write(nodeFiles.certificate(), nodeFiles.privateKey());
    server = new TlsTestServer(ApiTransport.open(mutual(Duration.ofDays(30)), CLOCK));
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    server.close();
  }

  private TlsSettings mutual(Duration expiryWarning) {
    return new TlsSettings(Optional.of(nodeFiles), false, Duration.ofMillis(50), expiryWarning);
  }

  /** Credentials of a caller holding {@code certificate}, trusting the node's CA. */
  private ChannelCredentials caller(String name, IssuedCertificate certificate) throws IOException {
    Path dir = directory.resolve("callers");
    Files.createDirectories(dir);
    TlsFiles files = TlsFiles.inDirectory(dir, name);
    certificate.write(files.certificate(), files.privateKey());
    return TlsChannelCredentials.newBuilder()
        .keyManager(files.certificate().toFile(), files.privateKey().toFile())
        .trustManager(nodeFiles.trustedCertificates().toFile())
        .build();
  }

  /**
   * What a caller with {@code credentials} gets: UNAUTHENTICATED with the catalogue reason
   * UNAUTHENTICATED in its ErrorInfo (checked here for every refusal).
   */
  private StatusRuntimeException refused(ChannelCredentials credentials) {
    channel = server.channel(credentials);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> whoAmI(channel));
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), e::toString);
    var info = ApiErrors.errorInfo(e).orElseThrow(() -> new AssertionError("no ErrorInfo: " + e));
    assertEquals(ApiErrors.DOMAIN, info.getDomain());
    assertEquals(ErrorReason.UNAUTHENTICATED.name(), info.getReason());
    return e;
  }

  @Test
  void clientCertificate_principalIsItsCommonName() throws Exception {
    channel = server.channel(caller("admin", ca.issueClient("admin", Duration.ofDays(1))));
    assertEquals("admin", principal(whoAmI(channel)));
  }

  @Test
  void certificateWithUriName_principalIsTheUri() throws Exception {
    IssuedCertificate node = ca.issueNode("n2", List.of("127.0.0.1"), Duration.ofDays(1));
    channel = server.channel(caller("n2", node));
    assertEquals("spiffe://keyrotor.local/keyrotor/node/n2", principal(whoAmI(channel)));
  }

  @Test
  void noClientCertificate_unauthenticated() {
    ChannelCredentials noCertificate = uncheckedTrustOnly(nodeFiles.trustedCertificates());
    TransportRefusals.assertNoClientCertificate(refused(noCertificate));
  }

  @Test
  void certificateOfAnotherCa_unauthenticated() throws Exception {
    DevelopmentCa other =
        DevelopmentCa.create(
            "other CA", DevelopmentCa.DEFAULT_TRUST_DOMAIN, Duration.ofDays(1), CLOCK);
    TransportRefusals.assertAdminOfAnotherCa(
        refused(caller("intruder", other.issueClient("admin", Duration.ofDays(1)))), "other CA");
  }

  @Test
  void expiredCertificate_unauthenticated() throws Exception {
    Instant now = CLOCK.instant();
    IssuedCertificate expired =
        ca.issue(
            new DevelopmentCa.Request(
                "admin",
                List.of(),
                List.of(),
                now.minus(Duration.ofDays(2)),
                now.minus(Duration.ofDays(1)),
                false));
    TransportRefusals.assertAdminExpired(refused(caller("expired", expired)), expired);
  }

  @Test
  void serverCertificateNotTrustedByTheClient_unavailable() throws Exception {
    DevelopmentCa other =
        DevelopmentCa.create(
            "other CA", DevelopmentCa.DEFAULT_TRUST_DOMAIN, Duration.ofDays(1), CLOCK);
    Path otherCa = directory.resolve("other-ca.pem");
    other.write(otherCa, directory.resolve("other-ca-key.pem"));
    channel = server.channel(uncheckedTrustOnly(otherCa));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> whoAmI(channel));
    // The client refuses the node during the handshake: no call was made, nothing to authenticate.
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
  }

  @Test
  void plaintextCallerOfATlsPort_unavailable() {
    channel = server.channel(InsecureChannelCredentials.create());
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> whoAmI(channel));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
  }

  @Test
  void health_answersAnyTlsCaller() {
    channel = server.channel(uncheckedTrustOnly(nodeFiles.trustedCertificates()));
    HealthCheckResponse response =
        HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance());
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, response.getStatus());
  }

  @Test
  void insecure_plaintextCallersAreTheLoopbackPrincipal() throws Exception {
    try (TlsTestServer plaintext =
        new TlsTestServer(ApiTransport.open(TlsSettings.plaintext(), CLOCK))) {
      ManagedChannel insecure = plaintext.channel(InsecureChannelCredentials.create());
      try {
        assertEquals(Principal.UNAUTHENTICATED_LOOPBACK.name() + " -", whoAmI(insecure));
      } finally {
        insecure.shutdownNow();
      }
      assertEquals(
          TransportMode.TRANSPORT_MODE_INSECURE_PLAINTEXT,
          ApiTransport.open(TlsSettings.plaintext(), CLOCK).status().getMode());
    }
  }

  @Test
  void status_certificateExpiringInsideTheWindow_warns() throws Exception {
    ApiTransport transport = ApiTransport.open(mutual(Duration.ofDays(30)), CLOCK);
    TransportSecurity status = transport.status();
    var certificate = PemFiles.readCertificates(nodeFiles.certificate()).get(0);
    assertEquals(TransportMode.TRANSPORT_MODE_MUTUAL_TLS, status.getMode());
    assertEquals("CN=n1,O=keyrotor", status.getCertificateSubject());
    assertEquals(certificate.getSerialNumber().toString(16), status.getCertificateSerial());
    assertEquals(
        certificate.getNotAfter().toInstant().getEpochSecond(),
        status.getCertificateNotAfter().getSeconds());
    assertTrue(
        status
            .getExpiryWarning()
            .startsWith(
                "the node certificate expires at "
                    + certificate.getNotAfter().toInstant()
                    + " (in "),
        status.getExpiryWarning());
    assertEquals("", status.getLastReloadFailure());
    double seconds = transport.secondsUntilExpiry();
    assertTrue(
        seconds > Duration.ofDays(5).minusHours(1).toSeconds()
            && seconds <= Duration.ofDays(5).toSeconds(),
        "seconds until expiry: " + seconds);
  }

  @Test
  void status_certificateExpiringAfterTheWindow_noWarning() throws Exception {
    TransportSecurity status = ApiTransport.open(mutual(Duration.ofDays(4)), CLOCK).status();
    assertEquals("", status.getExpiryWarning());
  }

  @Test
  void status_showsWhyChangedFilesCannotBeUsed() throws Exception {
    ApiTransport transport = ApiTransport.open(mutual(Duration.ofDays(4)), CLOCK);
    String serial = transport.status().getCertificateSerial();
    // A new certificate without its key: the files do not match.
    PemFiles.writeCertificates(
        nodeFiles.certificate(),
        ca.issueNode("n1", List.of("127.0.0.1"), Duration.ofDays(5)).chain());
    transport.credentials().orElseThrow().reloadNow();
    TransportSecurity status = transport.status();
    assertTrue(
        status.getLastReloadFailure().contains("is not the key of"), status.getLastReloadFailure());
    assertEquals(serial, status.getCertificateSerial(), "the previous certificate stays in use");
  }

  /** The principal in the test service's answer ("PRINCIPAL SERIAL"). */
  static String principal(String answer) {
    return answer.substring(0, answer.indexOf(' '));
  }

  private static ChannelCredentials uncheckedTrustOnly(Path caFile) {
    try {
      return TlsChannelCredentials.newBuilder().trustManager(caFile.toFile()).build();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
