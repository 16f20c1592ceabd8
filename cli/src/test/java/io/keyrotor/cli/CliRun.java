package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One in-process run of the CLI as the tests make it: standard input from bytes, standard output
 * and error captured.
 *
 * @param status the exit status
 * @param stdoutBytes everything written to standard output, text and bytes ({@code --out -})
 * @param stderr everything written to standard error
 */
// A captured run, read by its accessors and never compared as a whole.
@SuppressWarnings("ArrayRecordComponent")
record CliRun(int status, byte[] stdoutBytes, String stderr) {

  /**
   * A CLI whose relative paths resolve against {@code workingDirectory}, with the SDK's waits cut
   * short (1 s per attempt, 5 to 20 ms of backoff) so that failures come quickly.
   */
  static KeyrotorCli cli(Path workingDirectory) {
    return new KeyrotorCli(
        workingDirectory,
        builder ->
            builder
                .attemptTimeout(Duration.ofSeconds(1))
                .backoff(Duration.ofMillis(5), Duration.ofMillis(20)));
  }

  /** Runs one command line of {@code cli} with {@code stdin} as standard input. */
  static CliRun execute(KeyrotorCli cli, byte[] stdin, String... args) {
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    PrintWriter out = new PrintWriter(new OutputStreamWriter(stdout, StandardCharsets.UTF_8));
    int status =
        cli.withStdio(new ByteArrayInputStream(stdin), stdout)
            .execute(args, out, new PrintWriter(err));
    out.flush();
    return new CliRun(status, stdout.toByteArray(), err.toString());
  }

  /** Standard output as text. */
  String stdout() {
    return new String(stdoutBytes, StandardCharsets.UTF_8);
  }

  /** Standard output as one JSON document, which must be on one line. */
  static JsonObject oneJsonLine(String stdout) {
    assertEquals(1, stdout.lines().count(), "one JSON document on one line: " + stdout);
    return JsonParser.parseString(stdout).getAsJsonObject();
  }
}
