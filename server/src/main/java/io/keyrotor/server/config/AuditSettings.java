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
 * @param retentionMaxAge {@code audit.retention.max-age} (default 400d, {@code 0s}: no age cut):
 *     audit records, events and bulk rotation jobs older than this are trimmed (the audit chain
 *     only up to the newest checkpoint at or before the cut)
 * @param retentionMaxIndexes {@code audit.retention.max-indexes} (default 10,000,000; 0: no size
 *     cut): history further than this many log indexes behind the newest record is trimmed
 * @param retentionBulkRotations {@code audit.retention.bulk-rotations} (default 1000; 0: no count
 *     cut): bulk rotation jobs kept (the newest)
 * @param retentionInterval {@code audit.retention.interval} (default 1h; {@code 0s}: never trim):
 *     how often the leader checks and proposes a trim
 * @param receiptSigningInterval {@code audit.receipt-signing-interval} (default 10s; {@code 0s}:
 *     never sign): how often the leader looks for destruction receipts not signed yet and signs
 *     them with its audit key
 */
public record AuditSettings(
    Duration checkpointInterval,
    Duration retentionMaxAge,
    long retentionMaxIndexes,
    int retentionBulkRotations,
    Duration retentionInterval,
    Duration receiptSigningInterval) {
  public static AuditSettings defaults() {
    return new AuditSettings(
        Duration.ofMinutes(5),
        Duration.ofDays(400),
        10_000_000L,
        1_000,
        Duration.ofHours(1),
        Duration.ofSeconds(10));
  }

  private static final java.util.Set<String> KEYS =
      java.util.Set.of(
          "audit.checkpoint-interval",
          "audit.retention.max-age",
          "audit.retention.max-indexes",
          "audit.retention.bulk-rotations",
          "audit.retention.interval",
          "audit.receipt-signing-interval");

  /** The {@code audit.*} lines of {@code p} (defaults where absent). */
  static AuditSettings parse(Properties p, String source) throws ConfigException {
    for (String key : p.stringPropertyNames()) {
      // audit.data.* and audit.sink.* belong to the data audit stream (DataAuditSettings).
      if (key.startsWith("audit.")
          && !key.startsWith("audit.data.")
          && !key.startsWith("audit.sink.")
          && !KEYS.contains(key)) {
        String known = String.join(", ", new java.util.TreeSet<>(KEYS));
        throw new ConfigException(
            source + ": unknown key " + key + " (the audit settings are " + known + ")");
      }
    }
    Duration interval = ClockSettings.duration(p, source, "audit.checkpoint-interval", "5m");
    if (!interval.isZero() && interval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException(
          source + ": audit.checkpoint-interval must be 0s (on demand only) or at least 1s");
    }
    Duration maxAge = ClockSettings.duration(p, source, "audit.retention.max-age", "400d");
    Duration retentionInterval =
        ClockSettings.duration(p, source, "audit.retention.interval", "1h");
    if (!retentionInterval.isZero() && retentionInterval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException(
          source + ": audit.retention.interval must be 0s (never trim) or at least 1s");
    }
    long maxIndexes = number(p, source, "audit.retention.max-indexes", "10000000", 100);
    long bulk = number(p, source, "audit.retention.bulk-rotations", "1000", 1);
    if (bulk > 1_000_000) {
      throw new ConfigException(source + ": audit.retention.bulk-rotations is at most 1000000");
    }
    Duration receiptSigning =
        ClockSettings.duration(p, source, "audit.receipt-signing-interval", "10s");
    if (!receiptSigning.isZero() && receiptSigning.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException(
          source + ": audit.receipt-signing-interval must be 0s (never sign) or at least 1s");
    }
    return new AuditSettings(
        interval, maxAge, maxIndexes, (int) bulk, retentionInterval, receiptSigning);
  }

  /** A whole number {@code key}: 0 (no cut) or at least {@code minimum}. */
  private static long number(
      Properties p, String source, String key, String defaultValue, long minimum)
      throws ConfigException {
    String text = p.getProperty(key, defaultValue).trim();
    long value;
    try {
      value = Long.parseLong(text);
    } catch (NumberFormatException e) {
      value = -1;
    }
    if (value != 0 && value < minimum) {
      throw new ConfigException(
          source + ": " + key + " must be 0 (no cut) or a whole number of at least " + minimum);
    }
    return value;
  }
}
