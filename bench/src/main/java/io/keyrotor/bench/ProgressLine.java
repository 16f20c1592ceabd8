package io.keyrotor.bench;

import java.io.PrintStream;

/** A single, rewritten progress line on stderr while a measurement runs. */
public final class ProgressLine {
  private final PrintStream out;
  private final boolean enabled;

  public ProgressLine(PrintStream out, boolean enabled) {
    this.out = out;
    this.enabled = enabled;
  }

  void update(String label, long operations, double elapsedSeconds, double totalSeconds) {
    if (!enabled) {
      return;
    }
    out.printf(
        "\r  %-40s %5.1fs / %4.0fs  %,10d ops  %,8.0f ops/s   ",
        label,
        elapsedSeconds,
        totalSeconds,
        operations,
        elapsedSeconds > 0 ? operations / elapsedSeconds : 0.0);
    out.flush();
  }

  void clear() {
    if (enabled) {
      out.print("\r" + " ".repeat(110) + "\r");
      out.flush();
    }
  }
}
