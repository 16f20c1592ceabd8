package io.keyrotor.consensus;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.StringUtils;
import org.apache.ratis.util.TimeDuration;

/**
 * Checks the Ratis properties a node's configuration overrides ({@link
 * ConsensusConfig#ratisOverrides()}) by reading each one the way Ratis will, so that a bad value
 * stops the node before it starts, with a message naming the setting, the value and what is wrong.
 *
 * <p>Left to Ratis, a bad value fails the server's start with a message that often names neither
 * the setting nor the value ({@code For input string: "many"}), a boolean that is neither true nor
 * false silently means the default, and a bad log appender retry policy is read only when a node
 * becomes leader with followers: the group then never keeps a leader.
 *
 * <p>How Ratis reads a key follows from the type of its declared default ({@code X_KEY} with {@code
 * X_DEFAULT} in Ratis's config key classes): durations, sizes, numbers, booleans and enum values
 * are checked; strings, files and keys Ratis does not declare pass as they are. Ranges (a positive
 * count, a minimum) are left to Ratis.
 */
public final class RatisOverrides {

  /** Where Ratis declares its keys, each {@code X_KEY} next to its {@code X_DEFAULT}. */
  private static final List<Class<?>> KEY_CLASSES =
      List.of(
          RaftConfigKeys.class,
          RaftServerConfigKeys.class,
          RaftClientConfigKeys.class,
          GrpcConfigKeys.class);

  /** Read by Ratis as a retry policy ({@link RetryPolicy#parse}), though declared a string. */
  private static final String APPENDER_RETRY_POLICY_KEY =
      RaftServerConfigKeys.Log.Appender.RETRY_POLICY_KEY;

  /** A key's declared default: its type says how Ratis reads the key. */
  private record Declared(Class<?> type, Object defaultOrNull) {}

  /** Every key Ratis declares, with its default's type (String when it declares none). */
  private static final Map<String, Declared> DECLARED = declaredDefaults();

  private RatisOverrides() {}

  /** A Ratis setting whose value Ratis cannot read, or would read as something else. */
  public static final class InvalidOverrideException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final String value;
    private final String reason;

    InvalidOverrideException(String key, String value, String reason, Throwable cause) {
      super(key + "=" + value + ": " + reason, cause);
      this.key = key;
      this.value = value;
      this.reason = reason;
    }

    /** The Ratis key, such as {@code raft.server.rpc.timeout.min}. */
    public String key() {
      return key;
    }

    /** The value as configured. */
    public String value() {
      return value;
    }

    /** What is wrong with the value, and what was expected. */
    public String reason() {
      return reason;
    }
  }

  /**
   * Checks {@code overrides} on their own, as a node's configuration is read.
   *
   * @throws InvalidOverrideException for the first override (in key order) Ratis cannot read
   */
  public static void check(Map<String, String> overrides) {
    RaftProperties properties = new RaftProperties();
    overrides.forEach(properties::set);
    check(properties, overrides);
  }

  /**
   * Checks {@code overrides} as they are set in {@code properties}.
   *
   * @throws InvalidOverrideException for the first override (in key order) Ratis cannot read
   */
  static void check(RaftProperties properties, Map<String, String> overrides) {
    for (String key : overrides.keySet().stream().sorted().toList()) {
      String reason;
      try {
        reason = problemOrNull(properties, key);
      } catch (RuntimeException e) {
        throw new InvalidOverrideException(key, overrides.get(key), expected(key, e), e);
      }
      if (reason != null) {
        throw new InvalidOverrideException(key, overrides.get(key), reason, null);
      }
    }
  }

  /**
   * The overrides whose key Ratis does not declare (a misspelling, or a key of another Ratis
   * version): Ratis ignores them without a word, so the node warns at start.
   */
  public static List<String> undeclared(Map<String, String> overrides) {
    return overrides.keySet().stream().filter(k -> !DECLARED.containsKey(k)).sorted().toList();
  }

  /** Reads {@code key} as Ratis does; what is wrong with it, if Ratis would not say. */
  private static String problemOrNull(RaftProperties properties, String key) {
    if (key.equals(APPENDER_RETRY_POLICY_KEY)) {
      RetryPolicy.parse(properties.get(key));
      return null;
    }
    Declared declared = DECLARED.get(key);
    Class<?> type = declared == null ? String.class : declared.type();
    if (type == TimeDuration.class) {
      TimeDuration duration = (TimeDuration) declared.defaultOrNull();
      properties.getTimeDuration(
          key, duration, duration == null ? TimeUnit.MILLISECONDS : duration.getUnit());
    } else if (type == SizeInBytes.class) {
      properties.getSizeInBytes(key, null);
    } else if (type == int.class || type == Integer.class) {
      properties.getInt(key, null);
    } else if (type == long.class || type == Long.class) {
      properties.getLong(key, null);
    } else if (type == double.class || type == Double.class) {
      properties.getDouble(key, 0);
    } else if (type == boolean.class || type == Boolean.class) {
      // Ratis reads anything but true/t/false/f as the default, without a word.
      if (StringUtils.string2boolean(properties.getTrimmed(key), null) == null) {
        return "neither true nor false (Ratis would silently use its default"
            + (declared.defaultOrNull() == null ? "" : ", " + declared.defaultOrNull())
            + ")";
      }
    } else if (type.isEnum()) {
      Object[] constants = type.getEnumConstants();
      String value = properties.getTrimmed(key);
      if (Arrays.stream(constants).noneMatch(c -> ((Enum<?>) c).name().equals(value))) {
        return "not one of "
            + Arrays.stream(constants)
                .map(c -> ((Enum<?>) c).name())
                .collect(Collectors.joining(", "))
            + " (case matters)";
      }
    }
    return null;
  }

  /** What {@code key} expects, for a value Ratis refused with {@code failure}. */
  private static String expected(String key, RuntimeException failure) {
    if (key.equals(APPENDER_RETRY_POLICY_KEY)) {
      return "not a retry policy (pairs of sleep time and retry count, such as \"1ms,10,"
          + " 100ms,1000000\"): "
          + failure.getMessage();
    }
    Class<?> type = DECLARED.containsKey(key) ? DECLARED.get(key).type() : String.class;
    if (type == TimeDuration.class) {
      return "not a duration (such as 500ms, 3s or 2min)";
    } else if (type == SizeInBytes.class) {
      return "not a size in bytes (such as 4096, 64KB or 8MB): " + failure.getMessage();
    } else if (type == int.class || type == Integer.class) {
      return "not a whole number (up to " + Integer.MAX_VALUE + ")";
    } else if (type == long.class || type == Long.class) {
      return "not a whole number";
    } else if (type == double.class || type == Double.class) {
      return "not a number";
    }
    return "Ratis cannot read it: " + failure.getMessage();
  }

  private static Map<String, Declared> declaredDefaults() {
    Map<String, Declared> defaults = new HashMap<>();
    for (Class<?> keys : KEY_CLASSES) {
      collect(keys, defaults);
    }
    return Collections.unmodifiableMap(defaults);
  }

  private static void collect(Class<?> keys, Map<String, Declared> defaults) {
    for (Field field : keys.getDeclaredFields()) {
      String name = field.getName();
      if (!name.endsWith("_KEY")
          || field.getType() != String.class
          || !Modifier.isStatic(field.getModifiers())) {
        continue;
      }
      String key;
      try {
        key = (String) field.get(null);
      } catch (IllegalAccessException e) {
        continue;
      }
      try {
        Field defaultField =
            keys.getDeclaredField(name.substring(0, name.length() - "_KEY".length()) + "_DEFAULT");
        defaults.put(key, new Declared(defaultField.getType(), defaultField.get(null)));
      } catch (NoSuchFieldException | IllegalAccessException e) {
        // No declared default: the key is passed as it is.
        defaults.put(key, new Declared(String.class, null));
      }
    }
    for (Class<?> nested : keys.getDeclaredClasses()) {
      collect(nested, defaults);
    }
  }
}
