package io.keyrotor.server.config;

import com.google.common.base.Splitter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Reads typed values out of a node's properties, each failure a {@link ConfigException} that names
 * the file and the key, so every settings class reports bad values the same way.
 */
record ConfigFields(Properties p, String source) {
  String required(String key) throws ConfigException {
    String value = p.getProperty(key);
    if (value == null || value.isBlank()) {
      throw new ConfigException(source + ": " + key + " is required");
    }
    return value.trim();
  }

  long number(String key, String fallback) throws ConfigException {
    String value = optional(key, fallback);
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(source + ": " + key + " must be a whole number, not " + value);
    }
  }

  String optional(String key, String fallback) {
    String value = p.getProperty(key);
    return value == null || value.isBlank() ? fallback : value.trim();
  }

  List<String> list(String key, String fallback) {
    return new ArrayList<>(
        Splitter.on(',').trimResults().omitEmptyStrings().splitToList(optional(key, fallback)));
  }

  Duration duration(String key, String fallback) throws ConfigException {
    try {
      return NodeConfig.parseDuration(optional(key, fallback));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source + ": " + key + ": " + e.getMessage());
    }
  }

  HsmSettings.SecretSource secret(String prefix, String description, Path base)
      throws ConfigException {
    String file = p.getProperty(prefix + "-file");
    String env = p.getProperty(prefix + "-env");
    if ((file == null) == (env == null)) {
      throw new ConfigException(
          source + ": set exactly one of " + prefix + "-file and " + prefix + "-env");
    }
    return new HsmSettings.SecretSource(
        description,
        file == null ? null : base.resolve(file.trim()),
        env == null ? null : env.trim());
  }
}
