package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The clients in other languages under {@code examples/}, run as a user runs them (separate
 * processes, stubs from the published proto) against a real 3-node cluster over mutual TLS with the
 * cluster's development admin certificate: each creates a key, generates a data key, has the
 * cluster decrypt it, and exits 0 only when the decrypted key equals the plaintext one.
 *
 * <p>They need Debian's python3-grpcio and python3-grpc-tools, and Node.js with {@code npm ci} run
 * in examples/node ({@code scripts/test} installs all of it). Without them the tests are skipped,
 * or fail when CI=true.
 */
class ClientExamplesIT extends ClusterTestBase {
  private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
  private static final Path PROTO_ROOT =
      Path.of("..", "proto", "src", "main", "proto").toAbsolutePath().normalize();
  private static final String DEBIAN_PYTHON = "/usr/bin/python3";

  @TempDir Path workingDirectory;

  ClientExamplesIT() {
    super(List.of("local"), Map.of());
  }

  private record Result(int status, String stdout, String stderr) {}

  /** Skips (or, under CI=true, fails) when {@code what} is missing. */
  private static void require(boolean present, String what) {
    boolean underCi =
        "true".equals(System.getenv().getOrDefault("CI", "").trim().toLowerCase(Locale.ROOT));
    if (underCi) {
      assertTrue(present, what + " is missing; scripts/test installs it");
    }
    Assumptions.assumeTrue(present, what + " is missing; scripts/test installs it");
  }

  private static boolean runs(String... command) {
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      return process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private String servers() {
    return String.join(
        ",", cluster.apiAddress("n1"), cluster.apiAddress("n2"), cluster.apiAddress("n3"));
  }

  private List<String> connection() {
    return List.of(
        "--servers",
        servers(),
        "--tls-dir",
        cluster.directory.resolve("tls").toString(),
        "--proto-root",
        PROTO_ROOT.toString(),
        "--timeout",
        "45");
  }

  private Result run(List<String> command) throws IOException, InterruptedException {
    Path out = workingDirectory.resolve("stdout.txt");
    Path err = workingDirectory.resolve("stderr.txt");
    Process process =
        new ProcessBuilder(command)
            .directory(workingDirectory.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!process.waitFor(180, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      throw new AssertionError(
          command.get(1) + " did not finish: " + Files.readString(err, StandardCharsets.UTF_8));
    }
    return new Result(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void python_createsAKey_generatesADataKey_andGetsTheSameKeyBack() throws Exception {
    assertRoundTrip(pythonExample());
  }

  @Test
  void node_createsAKey_generatesADataKey_andGetsTheSameKeyBack() throws Exception {
    require(runs("node", "--version"), "Node.js");
    require(
        Files.isDirectory(EXAMPLES.resolve("node/node_modules/@grpc/grpc-js")),
        "examples/node/node_modules (npm ci)");
    List<String> command =
        new ArrayList<>(List.of("node", EXAMPLES.resolve("node/envelope_roundtrip.js").toString()));
    command.addAll(connection());
    assertRoundTrip(command);
  }

  @Test
  void python_aRefusal_exitsNonZero_withTheErrorInfoReason() throws Exception {
    List<String> command = pythonExample();
    command.addAll(List.of("--key", "not a valid name"));

    Result result = run(command);

    assertEquals(1, result.status(), result.stdout() + result.stderr());
    assertTrue(result.stderr().contains("INVALID_ARGUMENT"), result.stderr());
    assertTrue(result.stderr().contains("(INVALID_KEY_NAME)"), result.stderr());
  }

  /** The Python example's command line against the cluster, once its modules are installed. */
  private List<String> pythonExample() throws Exception {
    require(
        runs(DEBIAN_PYTHON, "-c", "import grpc, grpc_tools.protoc"),
        "python3-grpcio / python3-grpc-tools");
    List<String> command =
        new ArrayList<>(
            List.of(DEBIAN_PYTHON, EXAMPLES.resolve("python/envelope_roundtrip.py").toString()));
    command.addAll(connection());
    return command;
  }

  /** Runs an example's envelope round trip: it exits 0 and decrypted what it sealed. */
  private void assertRoundTrip(List<String> command) throws Exception {
    Result result = run(command);

    assertEquals(0, result.status(), result.stdout() + result.stderr());
    assertTrue(result.stdout().contains("decrypted_matches=true"), result.stdout());
    assertTrue(result.stdout().contains("data_key_bytes=32"), result.stdout());
  }
}
