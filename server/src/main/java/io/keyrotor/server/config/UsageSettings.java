package io.keyrotor.server.config;

import io.keyrotor.server.dataplane.EncryptionReservations;
import java.time.Duration;
import java.util.Properties;

/**
 * How the node reserves encryptions under key versions and how far ahead of a version's limit the
 * rotation engine rotates.
 *
 * @param reservations the data plane's blocks ({@code usage.reservation-block}, the smallest block;
 *     {@code usage.reservation-period}, how much of the node's traffic a block lasts)
 * @param rotationLead how long before a version's limit (at the measured rate) beyond the key's
 *     activation delay the engine proposes the rotation ({@code usage.rotation-lead})
 */
public record UsageSettings(EncryptionReservations.Settings reservations, Duration rotationLead) {
  /** Blocks of at least 1,000 lasting about 10 s; rotations 1 minute beyond the delay. */
  public static UsageSettings defaults() {
    return new UsageSettings(EncryptionReservations.Settings.defaults(), Duration.ofMinutes(1));
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
    return new UsageSettings(
        new EncryptionReservations.Settings(
            block, ClockSettings.duration(p, source, "usage.reservation-period", "10s")),
        ClockSettings.duration(p, source, "usage.rotation-lead", "1m"));
  }
}
