package io.keyrotor.bench;

import java.io.PrintStream;

/**
 * A single, rewritten progress line on stderr while the benchmark runs: the phase, what runs now,
 * elapsed time and operations.
 */
public final class ProgressLine {
  private final PrintStream out;
  private final boolean enabled;
  private volatile String phase = "";

  public ProgressLine(PrintStream out, boolean enabled) {
    this.out = out;
    this.enabled = enabled;
  }

  /** Names the phase shown in front of every update (e.g. "[3/8] data plane"). */
  void phase(String name) {
    this.phase = name;
    status("");
  }

  void update(String label, long operations, double elapsedSeconds, double totalSeconds) {
    if (!enabled) {
      return;
    }
    write(
        String.format(
            "%s  %-34s %5.1fs/%4.0fs %,10d ops %,8.0f ops/s",
            phase,
            label,
            elapsedSeconds,
            totalSeconds,
            operations,
            elapsedSeconds > 0 ? operations / elapsedSeconds : 0.0));
  }

  /** A free-form status (setup steps, counts of a long operation). */
  void status(String text) {
    if (enabled) {
      write(phase + "  " + text);
    }
  }

  private synchronized void write(String line) {
    String shown = line.length() > 118 ? line.substring(0, 118) : line;
    out.print("\r" + shown + " ".repeat(Math.max(0, 118 - shown.length())));
    out.flush();
  }

  void clear() {
    if (enabled) {
      synchronized (this) {
        out.print("\r" + " ".repeat(118) + "\r");
        out.flush();
      }
    }
  }
}
