package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AppliedTimeFloorClockTest {
  private final AtomicLong applied = new AtomicLong();

  private Clock at(long millis) {
    return new AppliedTimeFloorClock(
        Clock.fixed(Instant.ofEpochMilli(millis), ZoneOffset.UTC), applied::get);
  }

  @Test
  void clockBehindTheLastAppliedCommand_readsTheAppliedTime() {
    applied.set(10_000);
    assertEquals(10_000, at(4_000).millis());
    assertEquals(Instant.ofEpochMilli(10_000), at(4_000).instant());
  }

  @Test
  void clockAheadOfTheLastAppliedCommand_readsItsOwnTime() {
    applied.set(10_000);
    assertEquals(12_345, at(12_345).millis());
  }

  @Test
  void floorFollowsTheStore_asCommandsApply() {
    Clock clock = at(5_000);
    applied.set(1_000);
    assertEquals(5_000, clock.millis());
    applied.set(7_000);
    assertEquals(7_000, clock.millis());
  }
}
