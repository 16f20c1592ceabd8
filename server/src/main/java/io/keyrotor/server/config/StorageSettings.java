package io.keyrotor.server.config;

import io.keyrotor.storage.view.KeyCache;
import java.util.Locale;
import java.util.Properties;

/**
 * How the node keeps the replicated state in memory: key records live in RocksDB, and the node
 * caches the ones in use up to a bound, so its heap does not grow with the number of keys.
 *
 * @param keyCacheBytes the most estimated heap the key record cache takes ({@code
 *     storage.key-cache-bytes}: a number of bytes, or with a {@code k}, {@code m} or {@code g}
 *     suffix for KiB, MiB, GiB; 0 caches nothing)
 */
public record StorageSettings(long keyCacheBytes) {
  /** A 64 MiB key cache. */
  public static StorageSettings defaults() {
    return new StorageSettings(KeyCache.DEFAULT_BYTES);
  }

  /** The {@code storage.*} lines of {@code p} (defaults where absent). */
  static StorageSettings parse(Properties p, String source) throws ConfigException {
    String text = p.getProperty("storage.key-cache-bytes", "64m").trim();
    long bytes = bytes(text);
    if (bytes < 0) {
      throw new ConfigException(
          source
              + ": storage.key-cache-bytes must be a number of bytes (e.g. 67108864, 64m or 1g),"
              + " got \""
              + text
              + "\"");
    }
    return new StorageSettings(bytes);
  }

  /** {@code text} in bytes, with an optional k/m/g suffix; -1 if it is not one. */
  static long bytes(String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    long unit = 1;
    if (lower.endsWith("k") || lower.endsWith("m") || lower.endsWith("g")) {
      unit =
          switch (lower.charAt(lower.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            default -> 1L << 30;
          };
      lower = lower.substring(0, lower.length() - 1);
    }
    try {
      long value = Long.parseLong(lower);
      return value < 0 || value > Long.MAX_VALUE / unit ? -1 : value * unit;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
