package io.keyrotor.cli;

import io.keyrotor.client.envelope.EnvelopeStreamException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Files for {@code encrypt} and {@code decrypt}: {@code -} means standard input or output, paths
 * are relative to the CLI's working directory, and an output file is written to a temporary file
 * next to it (owner-only permissions where the file system has them) and renamed into place only
 * when the whole output was written: a failed or tampered decryption leaves no partial plaintext
 * behind.
 */
final class CliFiles {

  /** Writes the whole output to the stream it is given. */
  @FunctionalInterface
  interface Body {
    void write(OutputStream target) throws IOException;
  }

  private CliFiles() {}

  static boolean isStdio(String name) {
    return "-".equals(name);
  }

  /** Opens an input file, or standard input for {@code -}. */
  static InputStream open(KeyrotorCli root, String name) {
    if (isStdio(name)) {
      return root.stdin();
    }
    Path path = root.resolve(name);
    try {
      return Files.newInputStream(path);
    } catch (IOException e) {
      throw new CliException("cannot read " + name + ": " + describe(e), e);
    }
  }

  /**
   * Runs {@code body} against standard output for {@code -}, otherwise against a temporary file
   * that replaces {@code name} once {@code body} returned; the temporary file is deleted if it
   * throws.
   */
  static void write(KeyrotorCli root, String name, Body body) throws IOException {
    if (isStdio(name)) {
      OutputStream stdout = root.stdout();
      body.write(
          new java.io.FilterOutputStream(stdout) {
            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
              out.write(bytes, offset, length);
            }

            @Override
            public void close() throws IOException {
              out.flush(); // never close the process's standard output
            }
          });
      stdout.flush();
      return;
    }
    Path path = root.resolve(name);
    Path directory = path.toAbsolutePath().getParent();
    Path temporary;
    try {
      temporary =
          Files.createTempFile(directory, "." + path.getFileName() + ".", ".keyrotor-partial");
    } catch (IOException e) {
      throw new CliException("cannot write " + name + ": " + describe(e), e);
    }
    boolean done = false;
    try {
      try (OutputStream target = Files.newOutputStream(temporary)) {
        body.write(target);
      }
      try {
        Files.move(
            temporary, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, path, StandardCopyOption.REPLACE_EXISTING);
      }
      done = true;
    } finally {
      if (!done) {
        Files.deleteIfExists(temporary);
      }
    }
  }

  /** The CLI error for a failure while streaming. */
  static RuntimeException failure(IOException e) {
    if (e instanceof EnvelopeStreamException) {
      return new CliException(e.getMessage(), e);
    }
    return new CliException("I/O error: " + describe(e), e);
  }

  private static String describe(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
