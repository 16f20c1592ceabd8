package io.keyrotor.server.config;

import java.time.Duration;
import java.util.Properties;

/**
 * How the node's rotation engine runs, and the waiting periods of destroys ({@code rotation.*},
 * {@code keys.destroy-*}).
 *
 * @param schedulerInterval how often the scheduler and validator look for work ({@code
 *     rotation.scheduler-interval})
 * @param minimumPeriod the shortest rotation period a policy may ask for ({@code
 *     rotation.minimum-period}); a guard for production clusters
 * @param destroyDefaultWait the waiting period of a destroy that names none ({@code
 *     keys.destroy-default-wait})
 * @param destroyMinimumWait the shortest waiting period a destroy may ask for ({@code
 *     keys.destroy-minimum-wait})
 */
public record RotationSettings(
    Duration schedulerInterval,
    Duration minimumPeriod,
    Duration destroyDefaultWait,
    Duration destroyMinimumWait) {
  public static RotationSettings defaults() {
    return new RotationSettings(
        Duration.ofMillis(250), Duration.ofHours(1), Duration.ofDays(30), Duration.ofDays(1));
  }

  /** The {@code rotation.*} and {@code keys.destroy-*} lines of {@code p} (defaults if absent). */
  static RotationSettings parse(Properties p, String source) throws ConfigException {
    ConfigFields r = new ConfigFields(p, source);
    return new RotationSettings(
        r.duration("rotation.scheduler-interval", "250ms"),
        r.duration("rotation.minimum-period", "1h"),
        r.duration("keys.destroy-default-wait", "30d"),
        r.duration("keys.destroy-minimum-wait", "1d"));
  }
}
