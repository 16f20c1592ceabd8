package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeDataPlaneService;
import io.keyrotor.client.testing.FakeNode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code scripts/keyrotor} run as a separate process, as a user runs it: from a given directory,
 * with extra environment, standard input from {@code /dev/null}, its output kept as bytes in files
 * of that directory until it ends.
 */
final class ScriptProcess {

  static final Path SCRIPT = Path.of("..", "scripts", "keyrotor").toAbsolutePath();

  /** A finished run: its exit status, standard output (bytes) and standard error. */
  static final class Result {
    private final int status;
    private final byte[] stdoutBytes;
    private final String stderr;

    Result(int status, byte[] stdoutBytes, String stderr) {
      this.status = status;
      this.stdoutBytes = stdoutBytes.clone();
      this.stderr = stderr;
    }

    int status() {
      return status;
    }

    byte[] stdoutBytes() {
      return stdoutBytes.clone();
    }

    String stdout() {
      return new String(stdoutBytes, StandardCharsets.UTF_8);
    }

    String stderr() {
      return stderr;
    }
  }

  private final Process process;
  private final Path out;
  private final Path err;

  /** A scripted node over mutual TLS that knows key "payments" (version 1, primary). */
  static FakeNode paymentsNode() {
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
    return FakeNode.start(keys, new FakeAdminService());
  }

  private ScriptProcess(Process process, Path out, Path err) {
    this.process = process;
    this.out = out;
    this.err = err;
  }

  /** Runs {@code script ARGS...} in {@code directory} to its end (at most 60 s). */
  static Result run(Path script, Path directory, Map<String, String> environment, List<String> args)
      throws IOException, InterruptedException {
    return start(script, directory, environment, args).finish();
  }

  /** Starts {@code script ARGS...} in {@code directory}. */
  static ScriptProcess start(
      Path script, Path directory, Map<String, String> environment, List<String> args)
      throws IOException {
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(args);
    Path out = Files.createTempFile(directory, ".stdout", ".txt");
    Path err = Files.createTempFile(directory, ".stderr", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(directory.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    builder.environment().putAll(environment);
    return new ScriptProcess(builder.start(), out, err);
  }

  /** Waits for the end (at most 60 s, else the test fails); its output files are removed. */
  Result finish() throws IOException, InterruptedException {
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "scripts/keyrotor did not finish");
    Result result =
        new Result(
            process.exitValue(),
            Files.readAllBytes(out),
            Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return result;
  }
}
