package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest
  @CsvSource({
    "500ms, PT0.5S",
    "30s, PT30S",
    "5m, PT5M",
    "2h, PT2H",
    "90d, PT2160H",
    "1h30m, PT1H30M",
    "1d12h, PT36H",
    "1m30s500ms, PT1M30.5S",
    "0, PT0S",
    "0s, PT0S",
    "' 45S ', PT45S"
  })
  void parse_acceptsUnitsAndCombinations(String text, String expected) {
    assertEquals(Duration.parse(expected), Durations.parse(text));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", " ", "10", "s", "1x", "1.5h", "30m1h", "1h1h", "-5s", "5 s", "1h-30m", "m5"})
  void parse_rejectsMalformedInput(String text) {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
    assertTrue(error.getMessage().contains("duration"), error.getMessage());
  }

  @Test
  void parse_namesTheProblem() {
    assertEquals(
        "invalid duration \"5y\": unknown unit \"y\" (use ms, s, m, h or d)",
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("5y")).getMessage());
    assertEquals(
        "invalid duration \"-5s\": negative durations are not allowed",
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("-5s")).getMessage());
    assertEquals(
        "invalid duration \"10\": missing unit after 10 (use ms, s, m, h or d)",
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("10")).getMessage());
  }

  @Test
  void parse_hugeValue_isRejectedNotOverflowed() {
    assertThrows(IllegalArgumentException.class, () -> Durations.parse("99999999999999999999d"));
    assertThrows(IllegalArgumentException.class, () -> Durations.parse("9223372036854775807d"));
  }

  @Test
  void parsePositive_rejectsZero() {
    assertEquals(
        "invalid duration \"0s\": must be greater than zero",
        assertThrows(IllegalArgumentException.class, () -> Durations.parsePositive("0s"))
            .getMessage());
    assertEquals(Duration.ofMillis(1), Durations.parsePositive("1ms"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0s", "500ms", "30s", "5m", "2h", "90d", "1h30m", "1d2h3m4s5ms"})
  void format_roundTripsThroughParse(String text) {
    assertEquals(text, Durations.format(Durations.parse(text)));
  }

  @Test
  void format_normalisesToLargestUnits() {
    assertEquals("1h30m", Durations.format(Duration.ofMinutes(90)));
    assertEquals("1d", Durations.format(Duration.ofHours(24)));
    assertEquals("0s", Durations.format(Duration.ofNanos(999)));
  }
}
