package io.keyrotor.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReloadingCredentialsTest {
  private final DevelopmentCa ca =
      DevelopmentCa.create("test", "keyrotor.test", Duration.ofDays(1), Clock.systemUTC());

  @TempDir Path dir;

  @Test
  void presentsTheNewCertificateOnceTheFilesChange() throws Exception {
    TlsFiles files = TlsFiles.inDirectory(dir, "n1");
    ca.write(files.trustedCertificates(), dir.resolve("ca-key.pem"));
    IssuedCertificate first =
        ca.issueNode("n1", java.util.List.of("127.0.0.1"), Duration.ofHours(1));
    first.write(files.certificate(), files.privateKey());
    ReloadingCredentials credentials =
        ReloadingCredentials.open(files, Duration.ZERO, Clock.systemUTC());
    var keyManager = credentials.keyManager();
    String firstAlias = keyManager.chooseEngineServerAlias("EC", null, null);
    assertEquals(first.certificate(), keyManager.getCertificateChain(firstAlias)[0]);

    IssuedCertificate second =
        ca.issueNode("n1", java.util.List.of("127.0.0.1"), Duration.ofHours(2));
    second.write(files.certificate(), files.privateKey());
    touch(files);
    String alias = keyManager.chooseEngineServerAlias("EC", null, null);

    assertEquals(second.certificate(), keyManager.getCertificateChain(alias)[0]);
    assertEquals(second.privateKey(), keyManager.getPrivateKey(alias));
    assertEquals(second.certificate().getNotAfter().toInstant(), credentials.current().notAfter());
    assertEquals("", credentials.lastReloadFailure());
    // A handshake that chose the old alias just before the reload still gets the old pair.
    assertEquals(first.privateKey(), keyManager.getPrivateKey(firstAlias));
    assertEquals(null, keyManager.chooseEngineServerAlias("RSA", null, null));
  }

  @Test
  void aHalfWrittenSetKeepsThePreviousCredentials() throws Exception {
    TlsFiles files = TlsFiles.inDirectory(dir, "service");
    ca.write(files.trustedCertificates(), dir.resolve("ca-key.pem"));
    IssuedCertificate first = ca.issueClient("service", Duration.ofHours(1));
    first.write(files.certificate(), files.privateKey());
    ReloadingCredentials credentials =
        ReloadingCredentials.open(files, Duration.ZERO, Clock.systemUTC());

    // A new certificate without its key yet: the key does not match.
    IssuedCertificate second = ca.issueClient("service", Duration.ofHours(2));
    PemFiles.writeCertificates(files.certificate(), second.chain());
    touch(files);

    assertFalse(credentials.reloadNow());
    assertEquals(first.certificate(), credentials.current().chain().get(0));
    assertTrue(credentials.lastReloadFailure().contains("is not the key of"));

    PemFiles.writePrivateKey(files.privateKey(), second.privateKey());
    touch(files);
    assertEquals(second.certificate(), credentials.current().chain().get(0));
  }

  @Test
  void trustFollowsTheCaFile() throws Exception {
    TlsFiles files = TlsFiles.inDirectory(dir, "n1");
    ca.write(files.trustedCertificates(), dir.resolve("ca-key.pem"));
    ca.issueNode("n1", java.util.List.of("127.0.0.1"), Duration.ofHours(1))
        .write(files.certificate(), files.privateKey());
    ReloadingCredentials credentials =
        ReloadingCredentials.open(files, Duration.ZERO, Clock.systemUTC());
    DevelopmentCa other =
        DevelopmentCa.create("other", "keyrotor.test", Duration.ofDays(1), Clock.systemUTC());
    X509Certificate[] foreign = {other.issueClient("admin", Duration.ofHours(1)).certificate()};
    X509Certificate[] ours = {ca.issueClient("admin", Duration.ofHours(1)).certificate()};
    var trust = credentials.trustManager();

    trust.checkClientTrusted(ours, "ECDHE_ECDSA");
    assertThrows(
        CertificateException.class, () -> trust.checkClientTrusted(foreign, "ECDHE_ECDSA"));

    PemFiles.writeCertificates(
        files.trustedCertificates(), java.util.List.of(ca.certificate(), other.certificate()));
    touch(files);
    trust.checkClientTrusted(foreign, "ECDHE_ECDSA");
  }

  @Test
  void anExpiredCertificateIsNotTrusted() throws Exception {
    TlsFiles files = TlsFiles.inDirectory(dir, "n1");
    ca.write(files.trustedCertificates(), dir.resolve("ca-key.pem"));
    ca.issueNode("n1", java.util.List.of("127.0.0.1"), Duration.ofHours(1))
        .write(files.certificate(), files.privateKey());
    var trust =
        ReloadingCredentials.open(files, Duration.ofHours(1), Clock.systemUTC()).trustManager();
    Instant past = Instant.now().minus(Duration.ofDays(2));
    X509Certificate[] expired = {
      ca.issue(
              new DevelopmentCa.Request(
                  "admin",
                  java.util.List.of(),
                  java.util.List.of(),
                  past,
                  past.plusSeconds(60),
                  false))
          .certificate()
    };

    assertThrows(
        CertificateException.class, () -> trust.checkClientTrusted(expired, "ECDHE_ECDSA"));
  }

  @Test
  void startUpRefusesAKeyThatIsNotTheCertificates() throws Exception {
    TlsFiles files = TlsFiles.inDirectory(dir, "n1");
    ca.write(files.trustedCertificates(), dir.resolve("ca-key.pem"));
    ca.issueNode("n1", java.util.List.of("127.0.0.1"), Duration.ofHours(1))
        .write(files.certificate(), dir.resolve("unused-key.pem"));
    PemFiles.writePrivateKey(
        files.privateKey(), ca.issueClient("x", Duration.ofHours(1)).privateKey());

    IOException refused =
        assertThrows(
            IOException.class,
            () -> ReloadingCredentials.open(files, Duration.ZERO, Clock.systemUTC()));
    assertTrue(refused.getMessage().contains("is not the key of"), refused.getMessage());
  }

  /** File times have a coarse grain on some file systems: move them on explicitly. */
  private static void touch(TlsFiles files) throws IOException {
    FileTime later = FileTime.from(Instant.now().plusSeconds(counter++));
    for (Path file :
        java.util.List.of(files.certificate(), files.privateKey(), files.trustedCertificates())) {
      Files.setLastModifiedTime(file, later);
    }
  }

  private static long counter = 1;
}
