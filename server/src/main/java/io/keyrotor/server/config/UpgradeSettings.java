package io.keyrotor.server.config;

import io.keyrotor.storage.version.ClusterVersion;
import java.time.Duration;
import java.util.Properties;

/**
 * Rolling upgrades: which apply behaviour version this node reports and applies, and how often the
 * leader checks whether every voting member supports a higher one (README "Upgrades").
 *
 * @param maxSupportedVersion the highest cluster version this node applies ({@code
 *     upgrade.max-supported-version}, default: this binary's {@link ClusterVersion#SUPPORTED}). For
 *     testing upgrades only: a lower value makes the node act as an older binary, so a cluster
 *     holding it keeps the older behaviour and a log that needs more stops it
 * @param checkInterval how often the leader looks whether it can raise the cluster's version
 *     ({@code upgrade.check-interval}, default 5s)
 */
public record UpgradeSettings(int maxSupportedVersion, Duration checkInterval) {
  public static UpgradeSettings defaults() {
    return new UpgradeSettings(ClusterVersion.SUPPORTED, Duration.ofSeconds(5));
  }

  /** The {@code upgrade.*} lines of {@code p} (defaults where absent). */
  static UpgradeSettings parse(Properties p, String source) throws ConfigException {
    String text =
        p.getProperty("upgrade.max-supported-version", String.valueOf(ClusterVersion.SUPPORTED))
            .trim();
    int version;
    try {
      version = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      version = -1;
    }
    if (version < ClusterVersion.BASE || version > ClusterVersion.SUPPORTED) {
      throw new ConfigException(
          source
              + ": upgrade.max-supported-version must be "
              + ClusterVersion.BASE
              + " to "
              + ClusterVersion.SUPPORTED
              + " (the versions this binary can apply), got \""
              + text
              + "\"");
    }
    Duration interval = ClockSettings.duration(p, source, "upgrade.check-interval", "5s");
    if (interval.isZero() || interval.isNegative()) {
      throw new ConfigException(source + ": upgrade.check-interval must be positive");
    }
    return new UpgradeSettings(version, interval);
  }
}
