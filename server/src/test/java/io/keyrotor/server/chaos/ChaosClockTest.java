package io.keyrotor.server.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.keyrotor.server.testing.ManualClock;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class ChaosClockTest {
  private final ManualClock real = new ManualClock(1_700_000_000_000L);
  private final ChaosClock clock = new ChaosClock(real);

  @Test
  void untouched_readsTheRealClock() {
    assertEquals(real.millis(), clock.millis());
    real.advance(1234);
    assertEquals(real.millis(), clock.millis());
    assertEquals(0, clock.offsetMillis());
    assertEquals(Instant.ofEpochMilli(real.millis()), clock.instant());
  }

  @Test
  void offset_bumpsTheReadingAndKeepsAdvancingWithRealTime() {
    clock.setOffsetMillis(-60_000);
    assertEquals(real.millis() - 60_000, clock.millis());
    real.advance(500);
    assertEquals(real.millis() - 60_000, clock.millis());
    clock.setOffsetMillis(5_000);
    assertEquals(real.millis() + 5_000, clock.millis());
    assertEquals(5_000, clock.offsetMillis());
  }

  @Test
  void rate_appliesFromTheChangeOn_withoutAJump() {
    clock.setOffsetMillis(1_000);
    clock.setRate(0.5);
    long before = clock.millis();
    assertEquals(real.millis() + 1_000, before, "changing the rate does not jump");
    real.advance(10_000);
    assertEquals(before + 5_000, clock.millis());
    clock.setRate(2.0);
    real.advance(1_000);
    assertEquals(before + 7_000, clock.millis());
    assertEquals(2.0, clock.rate());
  }

  @Test
  void reset_returnsToRealTimeAtRateOne() {
    clock.setRate(3.0);
    clock.setOffsetMillis(-999);
    real.advance(100);
    clock.reset();
    assertEquals(real.millis(), clock.millis());
    real.advance(100);
    assertEquals(real.millis(), clock.millis());
    assertEquals(1.0, clock.rate());
  }

  @Test
  void setRate_outOfRange_rejected() {
    assertThrows(IllegalArgumentException.class, () -> clock.setRate(0));
    assertThrows(IllegalArgumentException.class, () -> clock.setRate(-1));
    assertThrows(IllegalArgumentException.class, () -> clock.setRate(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> clock.setRate(ChaosClock.MAX_RATE * 2));
  }

  @Test
  void withZone_sharesTheFaults() {
    Clock zoned = clock.withZone(ZoneId.of("Europe/Paris"));
    clock.setOffsetMillis(42);
    assertEquals(clock.millis(), zoned.millis());
  }
}
