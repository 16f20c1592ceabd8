package io.keyrotor.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevelopmentCaTest {
  private final DevelopmentCa ca =
      DevelopmentCa.create("test", "keyrotor.test", Duration.ofDays(1), Clock.systemUTC());

  @TempDir Path dir;

  @Test
  void nodeCertificateNamesItsAddressesAndNodeIdAndChainsToTheRoot() throws Exception {
    X509Certificate certificate =
        ca.issueNode("n1", List.of("127.0.0.1", "localhost"), Duration.ofHours(1)).certificate();

    certificate.verify(ca.certificate().getPublicKey());
    assertEquals(List.of("n1"), Identities.nodeIdsOf(certificate));
    assertEquals(List.of("spiffe://keyrotor.test/keyrotor/node/n1"), Identities.uris(certificate));
    assertTrue(certificate.getSubjectAlternativeNames().contains(List.of(7, "127.0.0.1")));
    assertTrue(certificate.getSubjectAlternativeNames().contains(List.of(2, "localhost")));
    assertEquals(
        Set.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"),
        Set.copyOf(certificate.getExtendedKeyUsage()));
  }

  @Test
  void callerCertificatePrincipalIsItsCommonNameAndItCannotServe() throws Exception {
    X509Certificate admin = ca.issueClient("admin", Duration.ofHours(1)).certificate();

    assertEquals(Optional.of("admin"), Identities.principalOf(admin));
    assertEquals(List.of(), Identities.nodeIdsOf(admin));
    assertEquals(List.of("1.3.6.1.5.5.7.3.2"), admin.getExtendedKeyUsage());
    assertEquals(-1, admin.getBasicConstraints());
  }

  @Test
  void aUriNameIsThePrincipalBeforeTheCommonName() {
    X509Certificate payments =
        issue("payments", List.of("spiffe://example.org/service/payments"), false);

    assertEquals(
        Optional.of("spiffe://example.org/service/payments"), Identities.principalOf(payments));
  }

  @Test
  void aUriOutsideTheNodePathNamesNoNode() {
    X509Certificate certificate =
        issue(
            "x",
            List.of(
                "spiffe://example.org/service/keyrotor/node/n1",
                "https://example.org/keyrotor/node/n2",
                "spiffe://example.org/keyrotor/node/../n3"),
            true);

    assertEquals(List.of(), Identities.nodeIdsOf(certificate));
  }

  @Test
  void filesRoundTripWithOwnerOnlyKeys() throws Exception {
    IssuedCertificate service = ca.issueClient("service", Duration.ofHours(1));
    Path cert = dir.resolve("tls/service.pem");
    Path key = dir.resolve("tls/service-key.pem");
    service.write(cert, key);
    ca.write(dir.resolve("tls/ca.pem"), dir.resolve("tls/ca-key.pem"));

    assertEquals("rw-------", permissions(key));
    assertEquals("rw-------", permissions(dir.resolve("tls/ca-key.pem")));
    assertEquals("rw-r--r--", permissions(cert));
    assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"));
    assertEquals(List.of(service.certificate()), PemFiles.readCertificates(cert));
    assertEquals(service.privateKey(), PemFiles.readPrivateKey(key));

    DevelopmentCa loaded =
        DevelopmentCa.load(
            dir.resolve("tls/ca.pem"),
            dir.resolve("tls/ca-key.pem"),
            "keyrotor.test",
            Clock.systemUTC());
    loaded
        .issueClient("later", Duration.ofHours(1))
        .certificate()
        .verify(ca.certificate().getPublicKey());
  }

  @Test
  void unreadableFilesAreRefusedNamingTheFile() throws IOException {
    Path notPem = Files.writeString(dir.resolve("x.pem"), "not a certificate");
    IOException certificate =
        assertThrows(IOException.class, () -> PemFiles.readCertificates(notPem));
    IOException key = assertThrows(IOException.class, () -> PemFiles.readPrivateKey(notPem));

    assertTrue(certificate.getMessage().contains(notPem.toString()), certificate.getMessage());
    assertTrue(key.getMessage().contains(notPem.toString()), key.getMessage());
  }

  @Test
  void anotherCasCertificateDoesNotVerify() {
    DevelopmentCa other =
        DevelopmentCa.create("other", "keyrotor.test", Duration.ofDays(1), Clock.systemUTC());
    X509Certificate foreign = other.issueClient("admin", Duration.ofHours(1)).certificate();

    assertThrows(
        GeneralSecurityException.class, () -> foreign.verify(ca.certificate().getPublicKey()));
  }

  private X509Certificate issue(String commonName, List<String> uris, boolean server) {
    Instant now = Instant.now();
    return ca.issue(
            new DevelopmentCa.Request(
                commonName, List.of(), uris, now, now.plusSeconds(60), server))
        .certificate();
  }

  private static String permissions(Path file) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }
}
