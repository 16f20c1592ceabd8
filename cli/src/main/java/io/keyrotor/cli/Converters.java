package io.keyrotor.cli;

import io.keyrotor.client.Durations;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * The converters of option and parameter values: durations, RFC 3339 times, counts and key
 * versions. A value that does not convert is a usage error naming what was expected.
 */
final class Converters {

  private Converters() {}

  /**
   * Applies {@code parse}, turning its {@link IllegalArgumentException} into picocli's conversion
   * error with the same message.
   */
  private static <T> T parsed(Function<String, T> parse, String value) {
    try {
      return parse.apply(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }

  /** Converts {@code 30s}, {@code 1h30m}, ... refusing zero. */
  static final class PositiveDuration implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return parsed(Durations::parsePositive, value);
    }
  }

  /** Converts {@code 0s}, {@code 30s}, {@code 1h30m}, ... allowing zero. */
  static final class AnyDuration implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return parsed(Durations::parse, value);
    }
  }

  /** Parses an RFC 3339 time ({@code 2025-06-01T00:00:00Z}, or with an offset). */
  static final class Time implements CommandLine.ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
      try {
        return OffsetDateTime.parse(value).toInstant();
      } catch (DateTimeParseException e) {
        throw new CommandLine.TypeConversionException(
            "invalid time \"" + value + "\" (expected RFC 3339, such as 2025-06-01T00:00:00Z)");
      }
    }
  }

  /** Parses a count that may be zero but not negative. */
  static final class Count implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      long count;
      try {
        count = Long.parseLong(value);
      } catch (NumberFormatException e) {
        count = -1;
      }
      if (count < 0) {
        throw new CommandLine.TypeConversionException(
            "invalid number \"" + value + "\" (expected 0 or more)");
      }
      return count;
    }
  }

  /** Parses {@code 3} or {@code v3} into a positive version number. */
  static final class Version implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      String digits = value.startsWith("v") || value.startsWith("V") ? value.substring(1) : value;
      int version;
      try {
        version = Integer.parseInt(digits);
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException(
            "invalid version \"" + value + "\" (expected a number such as 2)");
      }
      if (version < 1) {
        throw new CommandLine.TypeConversionException(
            "invalid version \"" + value + "\" (versions count from 1)");
      }
      return version;
    }
  }
}
