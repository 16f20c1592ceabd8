package io.keyrotor.server.config;

import java.time.Duration;
import java.util.Properties;

/**
 * The audit trail's signed checkpoints.
 *
 * @param checkpointInterval how often the leader signs the chain's head and proposes it as a
 *     checkpoint when records were added since the last one ({@code audit.checkpoint-interval};
 *     {@code 0s}: only on demand). A node verifies its chain from the last checkpoint at start, so
 *     this bounds that work too.
 */
public record AuditSettings(Duration checkpointInterval) {
  public static AuditSettings defaults() {
    return new AuditSettings(Duration.ofMinutes(5));
  }

  /** The {@code audit.*} lines of {@code p} (defaults where absent). */
  static AuditSettings parse(Properties p, String source) throws ConfigException {
    for (String key : p.stringPropertyNames()) {
      // audit.data.* and audit.sink.* belong to the data audit stream (DataAuditSettings).
      if (key.startsWith("audit.")
          && !key.startsWith("audit.data.")
          && !key.startsWith("audit.sink.")
          && !key.equals("audit.checkpoint-interval")) {
        throw new ConfigException(
            source + ": unknown key " + key + " (the audit setting is audit.checkpoint-interval)");
      }
    }
    Duration interval = ClockSettings.duration(p, source, "audit.checkpoint-interval", "5m");
    if (!interval.isZero() && interval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException(
          source + ": audit.checkpoint-interval must be 0s (on demand only) or at least 1s");
    }
    return new AuditSettings(interval);
  }
}
