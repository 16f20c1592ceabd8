package io.keyrotor.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether the process's standard error is a terminal, so that long jobs may show progress. */
final class Terminal {
  private Terminal() {}

  /**
   * True when file descriptor 2 is a terminal device ({@code /dev/pts/N}, {@code /dev/ttyN}), read
   * from {@code /proc/self/fd/2}; false when it is a file or a pipe, and where there is no {@code
   * /proc} (no progress is shown then).
   */
  static boolean stderrIsTerminal() {
    return isTerminalDevice(Path.of("/proc/self/fd/2"));
  }

  /** Whether {@code descriptorLink} (a {@code /proc/PID/fd/N} link) points at a terminal. */
  static boolean isTerminalDevice(Path descriptorLink) {
    try {
      String target = Files.readSymbolicLink(descriptorLink).toString();
      return target.startsWith("/dev/pts/")
          || target.startsWith("/dev/tty")
          || target.equals("/dev/console");
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false;
    }
  }
}
