package io.keyrotor.client.testing;

import io.keyrotor.client.Sleeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/** A clock that moves only when told, and a sleeper that moves it instead of waiting. */
public final class ManualClock extends Clock {

  private volatile Instant now;
  private final List<Duration> sleeps = new ArrayList<>();

  public ManualClock(Instant start) {
    this.now = start;
  }

  public synchronized void advance(Duration duration) {
    now = now.plus(duration);
  }

  /** A sleeper that records each requested sleep and advances this clock by it. */
  public Sleeper sleeper() {
    return duration -> {
      synchronized (this) {
        sleeps.add(duration);
        advance(duration);
      }
    };
  }

  /** Every sleep requested so far. */
  public synchronized List<Duration> sleeps() {
    return List.copyOf(sleeps);
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
