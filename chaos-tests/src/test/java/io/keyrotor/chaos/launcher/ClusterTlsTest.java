package io.keyrotor.chaos.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.TlsChannelCredentials;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.Identities;
import io.keyrotor.tls.PemFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterTlsTest {
  @TempDir Path cluster;

  private DevelopmentCa writeCa() throws IOException {
    DevelopmentCa ca =
        DevelopmentCa.create(
            "chaos test CA",
            DevelopmentCa.DEFAULT_TRUST_DOMAIN,
            Duration.ofDays(1),
            Clock.systemUTC());
    Path tls = Files.createDirectories(cluster.resolve("tls"));
    ca.write(tls.resolve("ca.pem"), tls.resolve("ca-key.pem"));
    return ca;
  }

  @Test
  void nodeCertificate_namesTheNamespaceAddressAndTheNode_signedByTheClustersCa() throws Exception {
    DevelopmentCa ca = writeCa();
    ca.issueNode("n2", List.of("127.0.0.1", "localhost"), Duration.ofDays(1))
        .write(cluster.resolve("tls/n2.pem"), cluster.resolve("tls/n2-key.pem"));

    ClusterTls.issueNodeCertificate(cluster, "n2", "10.77.0.2");

    X509Certificate certificate = PemFiles.readCertificates(cluster.resolve("tls/n2.pem")).get(0);
    certificate.verify(ca.certificate().getPublicKey());
    List<String> names = new ArrayList<>();
    for (List<?> name : certificate.getSubjectAlternativeNames()) {
      names.add(String.valueOf(name.get(1)));
    }
    assertTrue(names.containsAll(List.of("10.77.0.2", "127.0.0.1", "localhost")), names::toString);
    assertEquals(List.of("n2"), Identities.nodeIdsOf(certificate));
    // The new key belongs to the new certificate and stays private.
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(cluster.resolve("tls/n2-key.pem"))));
    assertEquals(
        certificate.getPublicKey().getAlgorithm(),
        PemFiles.readPrivateKey(cluster.resolve("tls/n2-key.pem")).getAlgorithm());
  }

  @Test
  void nodeCertificate_withoutTheClustersCa_isRefused() {
    IOException refused =
        assertThrows(
            IOException.class, () -> ClusterTls.issueNodeCertificate(cluster, "n1", "10.77.0.1"));
    assertTrue(refused.getMessage().contains("no development CA"), refused.getMessage());
  }

  @Test
  void adminCredentials_areMutualTlsWithTheAdminCertificate() throws Exception {
    DevelopmentCa ca = writeCa();
    ca.issueClient("admin", Duration.ofDays(1))
        .write(cluster.resolve("tls/admin.pem"), cluster.resolve("tls/admin-key.pem"));

    TlsChannelCredentials credentials =
        (TlsChannelCredentials) ClusterTls.adminCredentials(cluster);

    assertArrayEquals(
        Files.readAllBytes(cluster.resolve("tls/admin.pem")), credentials.getCertificateChain());
    assertArrayEquals(
        Files.readAllBytes(cluster.resolve("tls/admin-key.pem")), credentials.getPrivateKey());
    assertArrayEquals(
        Files.readAllBytes(cluster.resolve("tls/ca.pem")), credentials.getRootCertificates());
  }

  @Test
  void adminCredentials_withoutTheAdminCertificate_fail() throws Exception {
    writeCa();
    assertThrows(IOException.class, () -> ClusterTls.adminCredentials(cluster));
  }
}
