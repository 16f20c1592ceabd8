package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the repository's scripts ({@code scripts/cluster}, {@code scripts/keyrotor}) as processes
 * the way an operator does, from a working directory of the test's own (the scripts must not depend
 * on the caller's directory), with their output kept for the assertions.
 */
final class ScriptRunner {
  static final Path REPO = Path.of("").toAbsolutePath().getParent();

  /** A finished script run. */
  record Run(int exitCode, String stdout, String stderr) {
    JsonObject json() {
      return JsonParser.parseString(stdout).getAsJsonObject();
    }
  }

  private final Path work;
  private final Duration timeout;
  private final Map<String, String> environment;

  /**
   * @param work the working directory of every script, where their output files go too
   * @param timeout how long one script may run before the test fails
   * @param environment added to the scripts' environment
   */
  ScriptRunner(Path work, Duration timeout, Map<String, String> environment) {
    this.work = work;
    this.timeout = timeout;
    this.environment = environment;
  }

  /** Runs {@code scripts/SCRIPT ARGS...} to its end; fails the test if it outlives the timeout. */
  Run run(String script, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(REPO.resolve("scripts").resolve(script).toString());
    command.addAll(List.of(args));
    Path out = Files.createTempFile(work, "out", ".txt");
    Path err = Files.createTempFile(work, "err", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(work.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    // The resident CLI process that scripts/keyrotor starts lives in the test's directory, and
    // stops when that is removed.
    builder.environment().put("XDG_RUNTIME_DIR", work.toString());
    builder.environment().putAll(environment);
    Process process = builder.start();
    if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("timed out: " + command + "\n" + Files.readString(err, StandardCharsets.UTF_8));
    }
    return new Run(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8).strip(),
        Files.readString(err, StandardCharsets.UTF_8).strip());
  }

  /** {@link #run} that fails the test unless the script exits 0. */
  Run ok(String script, String... args) throws IOException, InterruptedException {
    Run run = run(script, args);
    assertEquals(
        0,
        run.exitCode(),
        () -> script + " " + List.of(args) + " failed: " + run.stdout() + "\n" + run.stderr());
    return run;
  }

  /** {@code scripts/keyrotor --cluster-dir DIR ARGS...}, which must exit 0. */
  Run cli(Path clusterDir, String... args) throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of("--cluster-dir", clusterDir.toString()));
    all.addAll(List.of(args));
    return ok("keyrotor", all.toArray(String[]::new));
  }
}
