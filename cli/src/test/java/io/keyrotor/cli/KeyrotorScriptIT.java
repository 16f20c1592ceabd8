package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.TestPki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    node = ScriptProcess.paymentsNode();
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
    return run(Map.of(), args);
  }

  private Result run(Map<String, String> environment, String... args)
      throws IOException, InterruptedException {
    // A deadline above the CLI's default of 10 s: a fresh JVM's first call (class loading, the
    // TLS handshake) can take longer than that on a machine busy with the rest of the build.
    List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString(), "--deadline", "45s"));
    command.addAll(List.of(args));
    Path out = workingDirectory.resolve("stdout.txt");
    Path err = workingDirectory.resolve("stderr.txt");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(workingDirectory.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    // A JVM per command, the path these tests are about (ResidentCliScriptIT: the resident one).
    builder.environment().put("KEYROTOR_RESIDENT", "off");
    builder.environment().putAll(environment);
    Process process = builder.start();
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

  @Test
  void keyGet_twice_sameAnswerNothingOnStderrAndNettyNativesLoadedFromTheUnpackedCopy()
      throws Exception {
    String[] command = withTls("--servers", node.address(), "key", "get", "payments", "--json");

    Result first = run(command);
    Result second = run(command);

    assertEquals(0, first.status(), first.stderr());
    assertEquals("", first.stderr());
    assertEquals(0, second.status(), second.stderr());
    assertEquals("", second.stderr());
    assertEquals(first.stdout(), second.stdout());
    String arch = System.getProperty("os.arch");
    if (arch.equals("amd64") || arch.equals("x86_64")) {
      Path natives = SCRIPT.getParent().resolveSibling("cli/target/native");
      assertTrue(
          Files.isRegularFile(
              natives.resolve("libio_grpc_netty_shaded_netty_tcnative_linux_x86_64.so")),
          "BoringSSL unpacked once to " + natives);
      assertTrue(
          Files.isRegularFile(
              natives.resolve("libio_grpc_netty_shaded_netty_transport_native_epoll_x86_64.so")),
          "epoll unpacked once to " + natives);
    }
  }

  @Test
  void keyGet_onJdk25_writesTheAotCacheThenAnswersTheSameWithNothingOnStderr() throws Exception {
    Optional<Path> jdk25 = newestJdk(25);
    // CI has a JDK 25 (the machine's Temurin 25): there a missing one fails instead of skipping.
    if ("true".equals(System.getenv("CI"))) {
      assertTrue(jdk25.isPresent(), "CI=true but no JDK 25 or newer under /usr/lib/jvm");
    }
    assumeTrue(jdk25.isPresent(), "no JDK 25 or newer under /usr/lib/jvm");
    Map<String, String> environment = Map.of("KEYROTOR_JAVA_HOME", jdk25.get().toString());
    String[] command = withTls("--servers", node.address(), "key", "get", "payments", "--json");
    Path cache = SCRIPT.getParent().resolveSibling("cli/target/keyrotor-cli.aot");
    Files.deleteIfExists(cache);

    Result training = run(environment, command);
    Result cached = run(environment, command);
    Result defaultJdk = run(command);

    assertEquals(0, training.status(), training.stderr());
    assertEquals("", training.stderr());
    assertTrue(Files.size(cache) > 0, "no AOT cache at " + cache);
    assertEquals(0, cached.status(), cached.stderr());
    assertEquals("", cached.stderr());
    assertEquals(defaultJdk.stdout(), training.stdout());
    assertEquals(defaultJdk.stdout(), cached.stdout());
  }

  /** The newest JDK under /usr/lib/jvm whose feature version is at least {@code feature}. */
  private static Optional<Path> newestJdk(int feature) throws IOException {
    Path jvms = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(jvms)) {
      return Optional.empty();
    }
    try (var homes = Files.list(jvms)) {
      return homes
          .filter(home -> featureVersion(home) >= feature)
          .filter(home -> Files.isExecutable(home.resolve("bin/java")))
          .max(Comparator.comparingInt(KeyrotorScriptIT::featureVersion));
    }
  }

  private static int featureVersion(Path home) {
    try {
      for (String line : Files.readAllLines(home.resolve("release"))) {
        if (line.startsWith("JAVA_VERSION=\"")) {
          String version = line.substring("JAVA_VERSION=\"".length());
          int end = 0;
          while (end < version.length() && Character.isDigit(version.charAt(end))) {
            end++;
          }
          return end == 0 ? 0 : Integer.parseInt(version.substring(0, end));
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }
}
