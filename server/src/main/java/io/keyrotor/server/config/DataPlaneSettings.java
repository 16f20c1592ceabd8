package io.keyrotor.server.config;

import io.keyrotor.server.dataplane.KekCache;
import io.keyrotor.server.dataplane.ReadGate;
import java.time.Duration;
import java.util.Properties;

/**
 * How the node serves the data plane ({@code reads.follower}, {@code kek-cache.*}).
 *
 * @param followerReads what a follower does with a data-plane call ({@code reads.follower})
 * @param kekCacheMaxEntries most unwrapped key-encryption keys held ({@code kek-cache.max-entries})
 * @param kekCacheIdleTimeout how long an unused one stays ({@code kek-cache.idle-timeout})
 */
public record DataPlaneSettings(
    ReadGate.FollowerReads followerReads, long kekCacheMaxEntries, Duration kekCacheIdleTimeout) {

  /**
   * The defaults: followers redirect data-plane calls to the leader (measured faster than
   * ReadIndex: see server/README.md, "Data plane"), 10,000 keys, 15 minutes idle.
   */
  public static DataPlaneSettings defaults() {
    return new DataPlaneSettings(
        ReadGate.FollowerReads.REDIRECT,
        KekCache.DEFAULT_MAX_ENTRIES,
        KekCache.DEFAULT_IDLE_TIMEOUT);
  }

  /** The {@code reads.follower} and {@code kek-cache.*} lines of {@code p} (defaults if absent). */
  static DataPlaneSettings parse(Properties p, String source) throws ConfigException {
    ConfigFields r = new ConfigFields(p, source);
    DataPlaneSettings defaults = defaults();
    String mode = r.optional("reads.follower", defaults.followerReads().configName());
    ReadGate.FollowerReads followerReads =
        ReadGate.FollowerReads.fromConfigName(mode)
            .orElseThrow(
                () ->
                    new ConfigException(
                        source + ": reads.follower must be read-index or redirect, not " + mode));
    long maxEntries;
    try {
      maxEntries =
          Long.parseLong(
              r.optional("kek-cache.max-entries", Long.toString(defaults.kekCacheMaxEntries())));
    } catch (NumberFormatException e) {
      maxEntries = 0;
    }
    if (maxEntries < 1) {
      throw new ConfigException(source + ": kek-cache.max-entries must be a positive number");
    }
    Duration idle = r.duration("kek-cache.idle-timeout", "15m");
    if (idle.isZero()) {
      throw new ConfigException(source + ": kek-cache.idle-timeout must be positive");
    }
    return new DataPlaneSettings(followerReads, maxEntries, idle);
  }
}
