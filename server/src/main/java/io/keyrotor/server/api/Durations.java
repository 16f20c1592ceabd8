package io.keyrotor.server.api;

/** Durations in the words of messages and findings: the largest whole unit, "365d", "90m". */
final class Durations {
  private static final long[] UNITS = {86_400_000L, 3_600_000L, 60_000L, 1000L};
  private static final String[] NAMES = {"d", "h", "m", "s"};

  private Durations() {}

  /** {@code millis} as days, hours, minutes, seconds or milliseconds, whichever divides it. */
  static String text(long millis) {
    if (millis == 0) {
      return "0s";
    }
    for (int i = 0; i < UNITS.length; i++) {
      if (millis % UNITS[i] == 0) {
        return millis / UNITS[i] + NAMES[i];
      }
    }
    return millis + "ms";
  }

  /** {@code millis} in its largest whole unit, rounded down ("400d", "3h", "12s"). */
  static String roundedDown(long millis) {
    for (int i = 0; i < UNITS.length; i++) {
      if (millis >= UNITS[i]) {
        return millis / UNITS[i] + NAMES[i];
      }
    }
    return millis + "ms";
  }
}
