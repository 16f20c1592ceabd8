package io.keyrotor.server.config;

import io.keyrotor.consensus.GroupCommitConfig;
import java.util.Properties;

/**
 * Group commit ({@code group-commit.*}): how the node gathers concurrent client writes into one
 * Raft log entry. A write goes out at once when none of this node's proposals is in flight (one
 * client alone waits no longer than without it); writes that arrive meanwhile go out together in
 * the next entry, up to a number of commands and of bytes. See {@link GroupCommitConfig}.
 *
 * <ul>
 *   <li>{@code group-commit.enabled} (default true): false proposes one entry per command;
 *   <li>{@code group-commit.max-commands} (default 256, 1-1024): the most commands in one entry;
 *   <li>{@code group-commit.max-bytes} (default 1m, 4k-4m): the most encoded command bytes in one
 *       entry (a number of bytes, or with a k or m suffix);
 *   <li>{@code group-commit.max-in-flight} (default 1, 1-16): how many batch entries of this node
 *       may be in flight at once.
 * </ul>
 */
public record GroupCommitSettings(GroupCommitConfig config) {
  /** On, with {@link GroupCommitConfig#defaults()}. */
  public static GroupCommitSettings defaults() {
    return new GroupCommitSettings(GroupCommitConfig.defaults());
  }

  /** The {@code group-commit.*} lines of {@code p} (defaults where absent). */
  static GroupCommitSettings parse(Properties p, String source) throws ConfigException {
    GroupCommitConfig defaults = GroupCommitConfig.defaults();
    String enabled = p.getProperty("group-commit.enabled", "true").trim();
    if (!enabled.equals("true") && !enabled.equals("false")) {
      throw new ConfigException(
          source + ": group-commit.enabled must be true or false, got \"" + enabled + "\"");
    }
    int commands = number(p, source, "group-commit.max-commands", defaults.maxCommands());
    String bytesText = p.getProperty("group-commit.max-bytes", "1m").trim();
    long bytes = StorageSettings.bytes(bytesText);
    int inFlight = number(p, source, "group-commit.max-in-flight", defaults.maxInFlight());
    if (bytes < 0) {
      throw new ConfigException(
          source
              + ": group-commit.max-bytes must be a number of bytes (e.g. 1048576 or 1m), got \""
              + bytesText
              + "\"");
    }
    within(source, "group-commit.max-commands", commands, 1, GroupCommitConfig.MAX_COMMANDS);
    within(source, "group-commit.max-bytes", bytes, 4096, GroupCommitConfig.MAX_BYTES);
    within(source, "group-commit.max-in-flight", inFlight, 1, GroupCommitConfig.MAX_IN_FLIGHT);
    return new GroupCommitSettings(
        new GroupCommitConfig(Boolean.parseBoolean(enabled), commands, (int) bytes, inFlight));
  }

  private static void within(String source, String key, long value, long min, long max)
      throws ConfigException {
    if (value < min || value > max) {
      throw new ConfigException(
          source + ": " + key + " must be " + min + "-" + max + ", got " + value);
    }
  }

  private static int number(Properties p, String source, String key, int fallback)
      throws ConfigException {
    String text = p.getProperty(key);
    if (text == null || text.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(
          source + ": " + key + " must be a whole number, got \"" + text + "\"");
    }
  }
}
