package io.keyrotor.server.config;

import com.google.common.base.Splitter;
import java.util.Collections;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compliance: the zones each policy template's keys may live in.
 *
 * @param templateZones by template name, the zones its keys may live in ({@code
 *     compliance.template.<name>.zones}, comma-separated); a template not named allows any zone
 */
public record ComplianceSettings(NavigableMap<String, NavigableSet<String>> templateZones) {
  private static final String PREFIX = "compliance.template.";
  private static final String SUFFIX = ".zones";

  public ComplianceSettings {
    NavigableMap<String, NavigableSet<String>> copy = new TreeMap<>();
    templateZones.forEach(
        (name, zones) ->
            copy.put(name, Collections.unmodifiableNavigableSet(new TreeSet<>(zones))));
    templateZones = Collections.unmodifiableNavigableMap(copy);
  }

  public static ComplianceSettings defaults() {
    return new ComplianceSettings(new TreeMap<>());
  }

  /**
   * The {@code compliance.*} lines of {@code p}; a key of another shape, a template name in {@code
   * knownTemplates} does not hold, or an empty zone list is refused.
   */
  static ComplianceSettings parse(Properties p, String source, Iterable<String> knownTemplates)
      throws ConfigException {
    NavigableSet<String> known = new TreeSet<>();
    knownTemplates.forEach(known::add);
    NavigableMap<String, NavigableSet<String>> zones = new TreeMap<>();
    for (String key : p.stringPropertyNames()) {
      if (!key.startsWith("compliance.")) {
        continue;
      }
      if (!key.startsWith(PREFIX) || !key.endsWith(SUFFIX)) {
        throw new ConfigException(
            source + ": unknown key " + key + " (expected compliance.template.<name>.zones)");
      }
      String name = key.substring(PREFIX.length(), key.length() - SUFFIX.length());
      if (!known.contains(name)) {
        throw new ConfigException(
            source + ": " + key + ": unknown policy template " + name + "; known: " + known);
      }
      NavigableSet<String> allowed = new TreeSet<>();
      Splitter.on(',')
          .trimResults()
          .omitEmptyStrings()
          .split(p.getProperty(key))
          .forEach(allowed::add);
      if (allowed.isEmpty()) {
        throw new ConfigException(source + ": " + key + " names no zone");
      }
      zones.put(name, allowed);
    }
    return new ComplianceSettings(zones);
  }
}
