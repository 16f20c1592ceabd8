package io.keyrotor.chaos.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs short host commands (ip, nft, tc, kill) and captures what they print. */
public final class Shell {
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);

  /** Own threads for the pipes: the common pool has one thread on two cores. */
  private static final java.util.concurrent.ExecutorService PIPES =
      java.util.concurrent.Executors.newCachedThreadPool(
          runnable -> {
            Thread thread = new Thread(runnable, "chaos-shell-pipe");
            thread.setDaemon(true);
            return thread;
          });

  private Shell() {}

  /** A finished command. */
  public record Result(List<String> command, int exitCode, String stdout, String stderr) {
    public boolean ok() {
      return exitCode == 0;
    }

    /** This result, or an exception naming the command and its stderr. */
    public Result orThrow() throws IOException {
      if (!ok()) {
        throw new IOException(
            String.join(" ", command) + " failed (exit " + exitCode + "): " + stderr.strip());
      }
      return this;
    }
  }

  /** Runs {@code command}, feeding it {@code stdinOrNull}; exit code 127 if it cannot start. */
  public static Result run(List<String> command, String stdinOrNull, Duration timeout) {
    Process process;
    try {
      process = new ProcessBuilder(command).start();
    } catch (IOException e) {
      return new Result(command, 127, "", e.getMessage());
    }
    CompletableFuture<String> out = drain(process.getInputStream());
    CompletableFuture<String> err = drain(process.getErrorStream());
    try (OutputStream in = process.getOutputStream()) {
      if (stdinOrNull != null) {
        in.write(stdinOrNull.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // the command did not read its input; its exit code tells
    }
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        return new Result(command, 124, out.getNow(""), "timed out after " + timeout);
      }
      return new Result(command, process.exitValue(), out.join(), err.join());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return new Result(command, 130, "", "interrupted");
    }
  }

  public static Result run(String... command) {
    return run(List.of(command));
  }

  /** Runs {@code command} with no input and the default timeout (20 s). */
  public static Result run(List<String> command) {
    return run(command, null, DEFAULT_TIMEOUT);
  }

  /** Runs {@code command} and fails if it exits non-zero. */
  public static Result check(String... command) throws IOException {
    return run(command).orThrow();
  }

  /** {@code prefix} followed by {@code rest}. */
  public static List<String> join(List<String> prefix, String... rest) {
    List<String> out = new ArrayList<>(prefix);
    out.addAll(List.of(rest));
    return out;
  }

  /** Whether {@code program} is on the PATH. */
  public static boolean onPath(String program) {
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : path.split(":", -1)) {
      if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  private static CompletableFuture<String> drain(InputStream stream) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (stream) {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            return "";
          }
        },
        PIPES);
  }
}
