package io.keyrotor.client;

import java.time.Duration;
import java.util.Locale;

/**
 * Parses and formats the compact durations that the SDK and the CLI accept: a sequence of {@code
 * <digits><unit>} terms with units {@code d} (days of 24 hours), {@code h}, {@code m}, {@code s}
 * and {@code ms}, largest unit first, each unit at most once. Examples: {@code 500ms}, {@code 30s},
 * {@code 5m}, {@code 2h}, {@code 90d}, {@code 1h30m}, {@code 1d12h}. A lone {@code 0} is zero.
 *
 * <p>The grammar has no sign, so a negative duration cannot be written; {@link #parsePositive}
 * additionally refuses zero for callers where zero makes no sense (a deadline, a period).
 */
public final class Durations {

  private enum Unit {
    DAYS("d", Duration.ofDays(1)),
    HOURS("h", Duration.ofHours(1)),
    MINUTES("m", Duration.ofMinutes(1)),
    SECONDS("s", Duration.ofSeconds(1)),
    MILLIS("ms", Duration.ofMillis(1));

    final String symbol;
    final Duration length;

    Unit(String symbol, Duration length) {
      this.symbol = symbol;
      this.length = length;
    }
  }

  private Durations() {}

  /**
   * Parses a duration that may be zero.
   *
   * @throws IllegalArgumentException with a message naming the input and what is wrong with it
   */
  public static Duration parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("missing duration");
    }
    String input = text.trim().toLowerCase(Locale.ROOT);
    if (input.isEmpty()) {
      throw new IllegalArgumentException("empty duration (expected for example 30s, 5m, 1h30m)");
    }
    if (input.startsWith("-")) {
      throw new IllegalArgumentException(
          "invalid duration \"" + text + "\": negative durations are not allowed");
    }
    if (input.equals("0")) {
      return Duration.ZERO;
    }
    Duration total = Duration.ZERO;
    int position = 0;
    Unit previousUnit = null;
    while (position < input.length()) {
      int digitsStart = position;
      while (position < input.length() && Character.isDigit(input.charAt(position))) {
        position++;
      }
      if (position == digitsStart) {
        throw invalid(text, "expected a number at position " + (digitsStart + 1));
      }
      String digits = input.substring(digitsStart, position);
      int unitStart = position;
      while (position < input.length() && Character.isLetter(input.charAt(position))) {
        position++;
      }
      String symbol = input.substring(unitStart, position);
      if (symbol.isEmpty()) {
        throw invalid(
            text,
            position < input.length()
                ? "unexpected \"" + input.charAt(position) + "\""
                : "missing unit after " + digits + " (use ms, s, m, h or d)");
      }
      Unit unit = unitOf(symbol);
      if (unit == null) {
        throw invalid(text, "unknown unit \"" + symbol + "\" (use ms, s, m, h or d)");
      }
      // Units are declared from largest to smallest, so a later unit compares greater.
      if (previousUnit != null && unit.compareTo(previousUnit) <= 0) {
        throw invalid(text, "units must go from largest to smallest, each at most once");
      }
      previousUnit = unit;
      try {
        long amount = Long.parseLong(digits);
        total = total.plus(unit.length.multipliedBy(amount));
      } catch (NumberFormatException | ArithmeticException e) {
        throw invalid(text, "too large");
      }
    }
    return total;
  }

  /**
   * Parses a duration that must be greater than zero.
   *
   * @throws IllegalArgumentException if the text is malformed or denotes zero
   */
  public static Duration parsePositive(String text) {
    Duration duration = parse(text);
    if (duration.isZero()) {
      throw new IllegalArgumentException(
          "invalid duration \"" + text.trim() + "\": must be greater than zero");
    }
    return duration;
  }

  /**
   * Formats a duration in the grammar {@link #parse} accepts, largest units first: {@code 1h30m},
   * {@code 500ms}, {@code 0s}. Sub-millisecond parts are dropped.
   *
   * @throws IllegalArgumentException for a negative duration
   */
  public static String format(Duration duration) {
    if (duration.isNegative()) {
      throw new IllegalArgumentException("negative duration: " + duration);
    }
    Duration rest = duration.truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    if (rest.isZero()) {
      return "0s";
    }
    StringBuilder text = new StringBuilder();
    for (Unit unit : Unit.values()) {
      long count = rest.dividedBy(unit.length);
      if (count > 0) {
        text.append(count).append(unit.symbol);
        rest = rest.minus(unit.length.multipliedBy(count));
      }
    }
    return text.toString();
  }

  private static Unit unitOf(String symbol) {
    for (Unit unit : Unit.values()) {
      if (unit.symbol.equals(symbol)) {
        return unit;
      }
    }
    return null;
  }

  private static IllegalArgumentException invalid(String text, String why) {
    return new IllegalArgumentException("invalid duration \"" + text.trim() + "\": " + why);
  }
}
