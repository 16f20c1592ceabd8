package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private final Backoff backoff =
      new Backoff(Duration.ofMillis(50), Duration.ofSeconds(2), new SplittableRandom(42));

  @Test
  void ceiling_doublesFromInitialUpToMax() {
    assertEquals(Duration.ofMillis(50), backoff.ceiling(0));
    assertEquals(Duration.ofMillis(100), backoff.ceiling(1));
    assertEquals(Duration.ofMillis(1600), backoff.ceiling(5));
    assertEquals(Duration.ofSeconds(2), backoff.ceiling(6));
    assertEquals(Duration.ofSeconds(2), backoff.ceiling(62));
    assertEquals(Duration.ofSeconds(2), backoff.ceiling(Integer.MAX_VALUE));
  }

  @Test
  void delay_staysWithinZeroAndCeiling() {
    for (int retry = 0; retry < 70; retry++) {
      Duration ceiling = backoff.ceiling(retry);
      for (int sample = 0; sample < 200; sample++) {
        Duration delay = backoff.delay(retry);
        assertFalse(delay.isNegative(), "negative delay at retry " + retry);
        assertTrue(delay.compareTo(ceiling) <= 0, delay + " above " + ceiling);
      }
    }
  }

  @Test
  void delay_isFullJitter_spreadingOverTheWholeRange() {
    Duration ceiling = backoff.ceiling(6);
    boolean low = false;
    boolean high = false;
    for (int sample = 0; sample < 1000; sample++) {
      Duration delay = backoff.delay(6);
      low |= delay.compareTo(ceiling.dividedBy(10)) < 0;
      high |= delay.compareTo(ceiling.multipliedBy(9).dividedBy(10)) > 0;
    }
    assertTrue(low && high, "delays should cover [0, ceiling], not cluster near it");
  }

  @Test
  void constructor_rejectsInconsistentBounds() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), new SplittableRandom(1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), new SplittableRandom(1)));
  }
}
