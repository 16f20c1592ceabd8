package io.keyrotor.server.api;

/** Durations in the words of messages and findings: the largest whole unit, "365d", "90m". */
final class Durations {
  private Durations() {}

  /** {@code millis} as days, hours, minutes, seconds or milliseconds, whichever divides it. */
  static String text(long millis) {
    if (millis == 0) {
      return "0s";
    }
    long[] units = {86_400_000L, 3_600_000L, 60_000L, 1000L};
    String[] names = {"d", "h", "m", "s"};
    for (int i = 0; i < units.length; i++) {
      if (millis % units[i] == 0) {
        return millis / units[i] + names[i];
      }
    }
    return millis + "ms";
  }
}
