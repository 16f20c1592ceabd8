package io.keyrotor.storage.access;

/**
 * A name pattern of a policy: an exact name, or a glob where {@code *} matches any run of
 * characters (none included). Compiled once per policy version; matching allocates nothing.
 */
final class Glob {
  private static final Glob ANY = new Glob("*", null, new String[0]);

  private final String pattern;
  private final String exactOrNull;
  // For a glob: the literal parts between the stars (the first and last may be empty).
  private final String[] parts;

  private Glob(String pattern, String exactOrNull, String[] parts) {
    this.pattern = pattern;
    this.exactOrNull = exactOrNull;
    this.parts = parts;
  }

  /** {@code pattern} compiled; empty and {@code *} match everything. */
  static Glob of(String pattern) {
    if (pattern.isEmpty() || pattern.equals("*")) {
      return ANY;
    }
    if (pattern.indexOf('*') < 0) {
      return new Glob(pattern, pattern, null);
    }
    return new Glob(pattern, null, pattern.split("\\*", -1));
  }

  /** Whether this pattern matches every name. */
  boolean matchesEverything() {
    return this == ANY;
  }

  boolean matches(String name) {
    if (this == ANY) {
      return true;
    }
    if (exactOrNull != null) {
      return exactOrNull.equals(name);
    }
    String first = parts[0];
    String last = parts[parts.length - 1];
    if (name.length() < first.length() + last.length()
        || !name.startsWith(first)
        || !name.endsWith(last)) {
      return false;
    }
    int at = first.length();
    int end = name.length() - last.length();
    for (int i = 1; i < parts.length - 1; i++) {
      String part = parts[i];
      if (part.isEmpty()) {
        continue;
      }
      int found = name.indexOf(part, at);
      if (found < 0 || found + part.length() > end) {
        return false;
      }
      at = found + part.length();
    }
    return true;
  }

  @Override
  public String toString() {
    return pattern;
  }
}
