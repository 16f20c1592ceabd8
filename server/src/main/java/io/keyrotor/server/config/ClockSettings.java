package io.keyrotor.server.config;

import java.time.Duration;
import java.util.Properties;

/**
 * Clock safety: how the node measures its clock against its peers' and when it stops stamping.
 *
 * @param maxOffset how far a member's clock may be from the others' and still agree ({@code
 *     clock.max-offset}); a leader further than this from a majority stamps nothing
 * @param probeInterval how often the peers' clocks are measured ({@code clock.probe-interval})
 * @param sampleMaxAge how long a measurement is used ({@code clock.sample-max-age})
 */
public record ClockSettings(Duration maxOffset, Duration probeInterval, Duration sampleMaxAge) {
  public static ClockSettings defaults() {
    return new ClockSettings(Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(10));
  }

  /** The {@code clock.*} lines of {@code p} (defaults where absent). */
  static ClockSettings parse(Properties p, String source) throws ConfigException {
    Duration maxOffset = duration(p, source, "clock.max-offset", "500ms");
    Duration interval = duration(p, source, "clock.probe-interval", "1s");
    Duration maxAge = duration(p, source, "clock.sample-max-age", "10s");
    if (maxOffset.isZero() || interval.isZero()) {
      throw new ConfigException(
          source + ": clock.max-offset and clock.probe-interval must be positive");
    }
    if (maxAge.compareTo(interval) <= 0) {
      throw new ConfigException(source + ": clock.sample-max-age must exceed clock.probe-interval");
    }
    return new ClockSettings(maxOffset, interval, maxAge);
  }

  /** The duration setting {@code key} of {@code p}, or {@code fallback}. */
  static Duration duration(Properties p, String source, String key, String fallback)
      throws ConfigException {
    String value = p.getProperty(key);
    try {
      return NodeConfig.parseDuration(value == null || value.isBlank() ? fallback : value.trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source + ": " + key + ": " + e.getMessage());
    }
  }
}
