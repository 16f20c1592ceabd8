package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.InsecureServerCredentials;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CLI's transport options against scripted nodes over real TLS: the cluster directory's fixed
 * file names, {@code --identity}, explicit files, {@code --insecure} on loopback only, and the
 * errors that say what to give.
 */
class TransportSecurityCliTest extends CliHarness<FakeKeyService> {

  TransportSecurityCliTest() {
    super(new FakeKeyService());
  }

  /** A cluster directory with its own CA (tls/ca.pem, admin, service) and a node serving it. */
  private FakeNode clusterIn(Path dir) throws IOException {
    TestPki pki = TestPki.create(dir);
    FakeNode own = FakeNode.start(pki, null, new FakeKeyService());
    Files.writeString(dir.resolve("servers"), own.address() + "\n");
    return own;
  }

  /**
   * Runs the CLI with {@code --servers} at the harness's node, {@code --ca} and {@code --cert
   * admin} of the shared CA, then {@code rest}, and nothing else.
   */
  private int runWithAdminCertificate(String... rest) {
    TestPki pki = TestPki.shared();
    List<String> args =
        new ArrayList<>(
            List.of(
                "--servers",
                node.address(),
                "--ca",
                pki.caCertificate().toString(),
                "--cert",
                pki.certificate("admin").toString()));
    args.addAll(List.of(rest));
    return runAsGiven(args.toArray(String[]::new));
  }

  @Test
  void clusterDir_usesCaPemAndAdminPemAndAdminKeyPem() throws IOException {
    Path dir = workingDirectory.resolve("c1");
    try (FakeNode own = clusterIn(dir)) {
      assertEquals(0, runAsGiven("--cluster-dir", "c1", "key", "list"), stderr);

      assertEquals("no keys\n", stdout);
      assertEquals(List.of("CN=admin,O=keyrotor"), own.callerSubjects());
    }
  }

  @Test
  void clusterDir_withoutAdminFiles_failsNamingTheMissingFile() throws IOException {
    Path dir = workingDirectory.resolve("c1");
    try (FakeNode own = clusterIn(dir)) {
      Files.move(dir.resolve("tls/admin.pem"), dir.resolve("tls/renamed.pem"));

      assertEquals(1, runAsGiven("--cluster-dir", "c1", "key", "list"));
      assertTrue(
          stderr.startsWith("error: no " + dir.resolve("tls/admin.pem").toAbsolutePath()), stderr);
      assertEquals(List.of(), own.callerSubjects());
    }
  }

  @Test
  void identity_picksAnotherCertificateOfTheClusterDir() throws IOException {
    Path dir = workingDirectory.resolve("c1");
    try (FakeNode own = clusterIn(dir)) {
      assertEquals(
          0, runAsGiven("key", "list", "--cluster-dir", "c1", "--identity", "service"), stderr);

      assertEquals(List.of("CN=service,O=keyrotor"), own.callerSubjects());
    }
  }

  @Test
  void explicitFiles_withServers_connectOverMutualTls() {
    assertEquals(0, run("key", "list"), stderr); // the harness passes --ca/--cert/--tls-key

    assertEquals(List.of("CN=admin,O=keyrotor"), node.callerSubjects());
  }

  @Test
  void serverOfAnotherCa_isRefused_sayingTheHandshakeFailed() throws IOException {
    try (FakeNode impostor =
        FakeNode.start(TestPki.create(workingDirectory.resolve("other")), null, keys)) {
      int status =
          run("--servers", impostor.address(), "--deadline", "1s", "key", "get", "payments");

      assertEquals(1, status);
      assertTrue(
          stderr.contains("(TLS handshake with " + impostor.address() + " failed: "), stderr);
      assertEquals(List.of(), impostor.callerSubjects());
    }
  }

  @Test
  void servers_withoutTlsOptions_saysWhatToGive() {
    assertEquals(1, runAsGiven("--servers", node.address(), "key", "list"));

    assertEquals(
        "error: no TLS material for --servers: give --ca FILE --cert FILE --tls-key FILE, or"
            + " --cluster-dir DIR (DIR/tls), or --insecure for a plaintext cluster on loopback\n",
        stderr);
  }

  @Test
  void insecure_onLoopback_talksPlaintext() {
    try (FakeNode plain = FakeNode.start(InsecureServerCredentials.create(), null, keys)) {
      assertEquals(
          0, runAsGiven("--servers", plain.address(), "--insecure", "key", "list"), stderr);
      assertEquals(List.of("none"), plain.callerSubjects());
    }
  }

  @Test
  void insecure_forRemoteServer_isRefused() {
    assertEquals(1, runAsGiven("--servers", "10.0.0.1:7101", "--insecure", "key", "list"));

    assertEquals(
        "error: --insecure is for servers on this machine (loopback) only, and 10.0.0.1:7101 is"
            + " not one: use the cluster's TLS files (--cluster-dir, or --ca/--cert/--tls-key)\n",
        stderr);
  }

  @Test
  void deprecatedKeySpelling_beforeTheCommand_stillNamesTheTlsKey() {
    int status =
        runWithAdminCertificate(
            "--key", TestPki.shared().privateKey("admin").toString(), "key", "list");

    assertEquals(0, status, stderr);
    assertEquals(List.of("CN=admin,O=keyrotor"), node.callerSubjects());
  }

  @Test
  void keyAfterAnAuditCommand_isTheKeyName_notTheTlsKey() {
    String[] args = {"audit", "timeline", "--key", "payments", "--tls-key", "me-key.pem"};
    picocli.CommandLine.ParseResult parsed =
        CliRun.cli(workingDirectory).commandTree(args).parseArgs(args);
    picocli.CommandLine.ParseResult timeline = parsed.subcommand().subcommand();
    assertEquals("payments", timeline.matchedOptionValue("--key", ""));
    assertEquals("me-key.pem", timeline.matchedOptionValue("--tls-key", ""));
  }

  @Test
  void certWithoutKey_isRefused() {
    int status = runWithAdminCertificate("key", "list");

    assertEquals(1, status);
    assertEquals("error: give --cert and --tls-key together\n", stderr);
  }
}
