package io.keyrotor.server.config;

import io.keyrotor.server.dataplane.EncryptionReservations;
import java.time.Duration;
import java.util.Properties;

/**
 * How the node reserves encryptions under key versions, how far ahead of a version's limit the
 * rotation engine rotates, and how often it reports the data keys it issued and rewrapped.
 *
 * @param reservations the data plane's blocks ({@code usage.reservation-block}, the smallest block;
 *     {@code usage.reservation-period}, how much of the node's traffic a block lasts)
 * @param rotationLead how long before a version's limit (at the measured rate) beyond the key's
 *     activation delay the engine proposes the rotation ({@code usage.rotation-lead})
 * @param reportInterval how often the node reports, through the log, the data keys it issued and
 *     rewrapped away per version ({@code usage.report-interval}); what it counted since its last
 *     report is lost if it crashes
 */
public record UsageSettings(
    EncryptionReservations.Settings reservations, Duration rotationLead, Duration reportInterval) {
  public UsageSettings {
    if (reportInterval.isNegative() || reportInterval.isZero()) {
      throw new IllegalArgumentException("the report interval must be positive");
    }
  }

  /**
   * Blocks of at least 1,000 lasting about 10 s; rotations 1 minute beyond the delay; data key
   * usage reported every 10 s.
   */
  public static UsageSettings defaults() {
    return new UsageSettings(
        EncryptionReservations.Settings.defaults(), Duration.ofMinutes(1), Duration.ofSeconds(10));
  }

  /** The {@code usage.*} lines of {@code p} (defaults where absent). */
  static UsageSettings parse(Properties p, String source) throws ConfigException {
    String text = p.getProperty("usage.reservation-block", "1000").trim();
    long block;
    try {
      block = Long.parseLong(text);
    } catch (NumberFormatException e) {
      block = 0;
    }
    if (block < 1) {
      throw new ConfigException(source + ": usage.reservation-block must be a positive number");
    }
    Duration reportInterval = ClockSettings.duration(p, source, "usage.report-interval", "10s");
    if (reportInterval.isZero() || reportInterval.isNegative()) {
      throw new ConfigException(source + ": usage.report-interval must be positive");
    }
    return new UsageSettings(
        new EncryptionReservations.Settings(
            block, ClockSettings.duration(p, source, "usage.reservation-period", "10s")),
        ClockSettings.duration(p, source, "usage.rotation-lead", "1m"),
        reportInterval);
  }
}
