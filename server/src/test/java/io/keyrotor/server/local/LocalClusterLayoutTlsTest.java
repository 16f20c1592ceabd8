package io.keyrotor.server.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.tls.Identities;
import io.keyrotor.tls.PemFiles;
import io.keyrotor.tls.ReloadingCredentials;
import io.keyrotor.tls.TlsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The development CA and certificates a local cluster gets under DIR/tls. */
class LocalClusterLayoutTlsTest {
  @TempDir Path directory;

  @Test
  void write_caNodeAndCallerCertificates_configsPointAtThem() throws Exception {
    Path dir = directory.resolve("cluster");
    new LocalClusterLayout(dir, 2, List.of("local"), 17100, "127.0.0.1").write();
    Path tls = dir.resolve("tls");
    X509Certificate ca = PemFiles.readCertificates(tls.resolve("ca.pem")).get(0);
    for (String key : List.of("ca-key.pem", "n1-key.pem", "n2-key.pem", "admin-key.pem")) {
      assertEquals(
          Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
          Files.getPosixFilePermissions(tls.resolve(key)),
          key);
    }
    for (String node : List.of("n1", "n2")) {
      X509Certificate certificate = PemFiles.readCertificates(tls.resolve(node + ".pem")).get(0);
      certificate.verify(ca.getPublicKey());
      assertEquals(List.of(node), Identities.nodeIdsOf(certificate));
      assertEquals(List.of("127.0.0.1", "localhost"), hostNames(certificate));
      NodeConfig config = NodeConfig.load(dir.resolve(node).resolve("node.properties"));
      assertEquals(
          Optional.of(TlsFiles.inDirectory(tls, node)), config.tls().files(), "tls.* of " + node);
      // The files the configuration names make a consistent set.
      ReloadingCredentials.open(
          config.tls().files().get(), Duration.ofSeconds(10), Clock.systemUTC());
      assertTrue(
          Files.readString(dir.resolve(node).resolve("node.properties"))
              .contains("access.bootstrap-admins=admin\n"));
    }
    for (String caller : List.of("admin", "service")) {
      X509Certificate certificate = PemFiles.readCertificates(tls.resolve(caller + ".pem")).get(0);
      certificate.verify(ca.getPublicKey());
      assertEquals(Optional.of(caller), Identities.principalOf(certificate));
      assertTrue(Files.exists(tls.resolve(caller + "-key.pem")));
    }
  }

  @Test
  void tlsDirectoryExists_keepsTheCaAndExistingCertificates_issuesMissingOnes() throws Exception {
    Path first = directory.resolve("first");
    new LocalClusterLayout(first, 1, List.of("local"), 17100, "127.0.0.1").write();
    // The same CA and certificates under another cluster directory, now of two nodes.
    Path dir = directory.resolve("cluster");
    Path tls = dir.resolve("tls");
    Files.createDirectories(tls);
    try (var files = Files.list(first.resolve("tls"))) {
      for (Path file : files.toList()) {
        Files.copy(file, tls.resolve(file.getFileName()));
      }
    }
    new LocalClusterLayout(dir, 2, List.of("local"), 17100, "127.0.0.1").write();
    for (String kept : List.of("ca.pem", "ca-key.pem", "n1.pem", "admin.pem", "service.pem")) {
      assertEquals(
          Files.readString(first.resolve("tls").resolve(kept)),
          Files.readString(tls.resolve(kept)),
          kept);
    }
    X509Certificate n2 = PemFiles.readCertificates(tls.resolve("n2.pem")).get(0);
    n2.verify(PemFiles.readCertificates(tls.resolve("ca.pem")).get(0).getPublicKey());
    assertEquals(List.of("n2"), Identities.nodeIdsOf(n2));
  }

  private static List<String> hostNames(X509Certificate certificate) throws Exception {
    List<String> out = new ArrayList<>();
    Collection<List<?>> names = certificate.getSubjectAlternativeNames();
    for (List<?> name : names) {
      int type = (Integer) name.get(0);
      if (type == 2 || type == 7) { // DNS name, IP address
        out.add((String) name.get(1));
      }
    }
    return out;
  }
}
