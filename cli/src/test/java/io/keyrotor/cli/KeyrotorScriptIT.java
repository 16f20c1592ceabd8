package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeDataPlaneService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.TestPki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/keyrotor} as a user runs it: a separate process, the shaded jar (so a broken
 * META-INF/services merge shows up as a failure to resolve {@code dns:///}), started from a
 * directory other than the repository, against a scripted server on a loopback port.
 */
class KeyrotorScriptIT {

  private static final Path SCRIPT = Path.of("..", "scripts", "keyrotor").toAbsolutePath();

  private static FakeNode node;

  @TempDir Path workingDirectory;

  @BeforeAll
  static void startServer() {
    FakeDataPlaneService keys = new FakeDataPlaneService();
    keys.addKey("payments");
    keys.put(
        Key.newBuilder()
            .setName("payments")
            .setZone("default")
            .setPrimaryVersion(1)
            .addVersions(
                KeyVersion.newBuilder()
                    .setVersion(1)
                    .setState(KeyVersionState.KEY_VERSION_STATE_PRIMARY))
            .build());
    node = FakeNode.start(keys, new FakeAdminService());
  }

  @AfterAll
  static void stopServer() {
    node.close();
  }

  private record Result(int status, String stdout, String stderr) {}

  /**
   * {@code args} with the shared test certificates' {@code --ca}, {@code --cert}, {@code --key}.
   */
  private static String[] withTls(String... args) {
    List<String> all = new ArrayList<>(CliHarness.tlsOptions());
    all.addAll(List.of(args));
    return all.toArray(String[]::new);
  }

  private Result run(String... args) throws IOException, InterruptedException {
    // A deadline above the CLI's default of 10 s: a fresh JVM's first call (class loading, the
    // TLS handshake) can take longer than that on a machine busy with the rest of the build.
    List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString(), "--deadline", "45s"));
    command.addAll(List.of(args));
    Path out = workingDirectory.resolve("stdout.txt");
    Path err = workingDirectory.resolve("stderr.txt");
    Process process =
        new ProcessBuilder(command)
            .directory(workingDirectory.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "scripts/keyrotor did not finish");
    return new Result(
        process.exitValue(),
        new String(Files.readAllBytes(out), StandardCharsets.UTF_8), // may be binary (--out -)
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void keyGet_fromDefaultClusterDirUnderCurrentDirectory_printsJson() throws Exception {
    Path clusterDir = workingDirectory.resolve(".keyrotor/cluster");
    Files.createDirectories(clusterDir.resolve("tls"));
    Files.writeString(clusterDir.resolve("servers"), node.address() + "\n");
    for (String name : List.of("ca.pem", "admin.pem", "admin-key.pem")) {
      Files.copy(
          TestPki.shared().tlsDirectory().resolve(name), clusterDir.resolve("tls").resolve(name));
    }

    Result result = run("key", "get", "payments", "--json");

    assertEquals(0, result.status(), result.stderr());
    assertTrue(
        result.stdout().startsWith("{\"name\":\"payments\",\"zone\":\"default\""), result.stdout());
  }

  @Test
  void keyGet_missingKey_exitsOneWithOneLine() throws Exception {
    Result result = run(withTls("--servers", node.address(), "key", "get", "orders"));

    assertEquals(1, result.status());
    assertEquals("error: key \"orders\" not found (KEY_NOT_FOUND)\n", result.stderr());
    assertEquals("", result.stdout());
  }

  @Test
  void encryptToStdoutThenDecryptFile_binaryEnvelopeSurvivesTheProcessBoundary() throws Exception {
    byte[] plaintext = new byte[100_000];
    new java.util.SplittableRandom(5).nextBytes(plaintext);
    Files.write(workingDirectory.resolve("data.bin"), plaintext);

    Result encrypted =
        run(
            withTls(
                "--servers",
                node.address(),
                "encrypt",
                "payments",
                "--in",
                "data.bin",
                "--out",
                "-",
                "--context",
                "tenant=acme"));
    assertEquals(0, encrypted.status(), encrypted.stderr());
    Files.move(workingDirectory.resolve("stdout.txt"), workingDirectory.resolve("data.enc"));
    Result decrypted =
        run(
            withTls(
                "--servers",
                node.address(),
                "decrypt",
                "--in",
                "data.enc",
                "--out",
                "data.out",
                "--context",
                "tenant=acme",
                "--json"));

    assertEquals(0, decrypted.status(), decrypted.stderr());
    assertTrue(decrypted.stdout().contains("\"plaintext_bytes\":100000"), decrypted.stdout());
    assertTrue(
        java.util.Arrays.equals(
            plaintext, Files.readAllBytes(workingDirectory.resolve("data.out"))));
  }
}
