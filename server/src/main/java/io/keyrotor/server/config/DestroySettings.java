package io.keyrotor.server.config;

import java.time.Duration;
import java.util.Properties;

/**
 * Version destruction: how soon a destroyed version's wrapped KEK must be gone from every file of
 * the node's data directory (Raft log segments, snapshots, RocksDB's table and write-ahead log
 * files). Each node scrubs its own files after it applies the destruction (README "Destruction").
 *
 * @param scrubWithin the bound ({@code destroy.scrub-within}, default 5 minutes); the node starts
 *     at once and retries until it is done, and logs a warning when the bound passes first
 */
public record DestroySettings(Duration scrubWithin) {
  /** The smallest bound accepted: a scrub takes a flush, a compaction and a snapshot. */
  static final Duration MINIMUM = Duration.ofSeconds(10);

  public static DestroySettings defaults() {
    return new DestroySettings(Duration.ofMinutes(5));
  }

  /** The {@code destroy.*} lines of {@code p} (defaults where absent). */
  static DestroySettings parse(Properties p, String source) throws ConfigException {
    Duration within = ClockSettings.duration(p, source, "destroy.scrub-within", "5m");
    if (within.compareTo(MINIMUM) < 0) {
      throw new ConfigException(
          source + ": destroy.scrub-within must be at least " + MINIMUM.toSeconds() + "s");
    }
    return new DestroySettings(within);
  }
}
