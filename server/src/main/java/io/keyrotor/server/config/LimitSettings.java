package io.keyrotor.server.config;

import io.keyrotor.crypto.EncryptionContext;
import io.keyrotor.server.dataplane.DataPlane;
import io.keyrotor.storage.Limits;
import io.keyrotor.storage.Validation;
import io.keyrotor.storage.apply.key.SetDependentsHandler;
import java.util.EnumMap;
import java.util.Map;
import java.util.Properties;

/**
 * The node's limits on what callers grow ({@code limits.*}): how many keys, versions, labels,
 * dependents and batch items, and how long names, label values, reasons and encryption contexts may
 * be. The server refuses a request beyond them before anything is proposed, so a refused request
 * costs no log entry, audit record or request record.
 *
 * <p>Each setting is at most its ceiling: the bound apply enforces on every replica ({@link
 * Limits}, compiled in, so replicas never disagree), or the bound of a format (a key name in the
 * ciphertext header, the encryption context's encoding) or of the data plane. A setting above its
 * ceiling is refused at start-up. Apply re-checks the ceilings, not the settings: a setting lowered
 * below its ceiling holds for every request this node admits, and requests admitted at the same
 * moment by several nodes can pass it together by at most their number.
 */
public record LimitSettings(Map<Limit, Integer> values) {

  /** One limit: its setting, its default and its ceiling. */
  public enum Limit {
    KEYS_PER_CLUSTER("limits.keys-per-cluster", 100_000, Limits.MAX_KEYS_PER_CLUSTER),
    KEYS_PER_ZONE("limits.keys-per-zone", 100_000, Limits.MAX_KEYS_PER_ZONE),
    VERSIONS_PER_KEY("limits.versions-per-key", 1_000, Limits.MAX_VERSIONS_PER_KEY),
    NAME_BYTES("limits.name-bytes", Validation.MAX_KEY_NAME_LENGTH, Validation.MAX_KEY_NAME_LENGTH),
    LABELS_PER_KEY("limits.labels-per-key", Validation.MAX_LABELS, Validation.MAX_LABELS),
    LABEL_VALUE_BYTES(
        "limits.label-value-bytes",
        Validation.MAX_LABEL_VALUE_LENGTH,
        Validation.MAX_LABEL_VALUE_LENGTH),
    REASON_BYTES("limits.reason-bytes", 256, Limits.MAX_REASON_BYTES),
    DEPENDENTS_PER_KEY(
        "limits.dependents-per-key",
        SetDependentsHandler.MAX_DEPENDENTS,
        SetDependentsHandler.MAX_DEPENDENTS),
    CONTEXT_BYTES(
        "limits.context-bytes",
        EncryptionContext.MAX_ENCODED_BYTES,
        EncryptionContext.MAX_ENCODED_BYTES),
    BATCH_ITEMS("limits.batch-items", 1_000, DataPlane.MAX_BATCH_ITEMS);

    private final String setting;
    private final int defaultValue;
    private final int ceiling;

    Limit(String setting, int defaultValue, int ceiling) {
      this.setting = setting;
      this.defaultValue = defaultValue;
      this.ceiling = ceiling;
    }

    /** The name of its line in {@code node.properties}. */
    public String setting() {
      return setting;
    }

    public int defaultValue() {
      return defaultValue;
    }

    /** The largest value it may be set to. */
    public int ceiling() {
      return ceiling;
    }
  }

  static final String PREFIX = "limits.";

  public LimitSettings {
    values = Map.copyOf(values);
    for (Limit limit : Limit.values()) {
      Integer value = values.get(limit);
      if (value == null || value < 1 || value > limit.ceiling()) {
        throw new IllegalArgumentException(limit.setting() + " out of range: " + value);
      }
    }
  }

  /** Every limit at its default. */
  public static LimitSettings defaults() {
    Map<Limit, Integer> values = new EnumMap<>(Limit.class);
    for (Limit limit : Limit.values()) {
      values.put(limit, limit.defaultValue());
    }
    return new LimitSettings(values);
  }

  /** These settings with {@code limit} set to {@code value} (tests, tools). */
  public LimitSettings with(Limit limit, int value) {
    Map<Limit, Integer> changed = new EnumMap<>(values);
    changed.put(limit, value);
    return new LimitSettings(changed);
  }

  /** The value of {@code limit}. */
  public int get(Limit limit) {
    return values.get(limit);
  }

  /**
   * The {@code limits.*} lines of {@code p}: each a whole number from 1 to its ceiling; an unknown
   * {@code limits.} key is refused, so a misspelt limit does not silently stay at its default.
   */
  static LimitSettings parse(Properties p, String source) throws ConfigException {
    Map<Limit, Integer> values = new EnumMap<>(Limit.class);
    for (Limit limit : Limit.values()) {
      values.put(limit, limit.defaultValue());
    }
    for (String key : p.stringPropertyNames()) {
      if (!key.startsWith(PREFIX) || FlowSettings.LIMIT_KEYS.contains(key)) {
        continue; // the watchers' limits are FlowSettings'
      }
      Limit limit = null;
      for (Limit candidate : Limit.values()) {
        if (candidate.setting().equals(key)) {
          limit = candidate;
        }
      }
      if (limit == null) {
        throw new ConfigException(
            source + ": unknown key " + key + " (the limits are " + settingNames() + ")");
      }
      String text = p.getProperty(key).trim();
      int value;
      try {
        value = Integer.parseInt(text.replace("_", ""));
      } catch (NumberFormatException e) {
        value = 0;
      }
      if (value < 1 || value > limit.ceiling()) {
        throw new ConfigException(
            source
                + ": "
                + key
                + " must be a whole number from 1 to "
                + limit.ceiling()
                + ", not \""
                + text
                + "\"");
      }
      values.put(limit, value);
    }
    return new LimitSettings(values);
  }

  private static String settingNames() {
    StringBuilder out = new StringBuilder();
    for (Limit limit : Limit.values()) {
      out.append(out.length() == 0 ? "" : ", ").append(limit.setting());
    }
    for (String key : new java.util.TreeSet<>(FlowSettings.LIMIT_KEYS)) {
      out.append(", ").append(key);
    }
    return out.toString();
  }
}
