package io.keyrotor.storage.architecturefixture;

/** Deliberately bad: a transition that stamps its own time instead of the command's. */
public final class ClockReadingTransition {
  private ClockReadingTransition() {}

  public static long activationTime(long delayMillis) {
    return System.currentTimeMillis() + delayMillis;
  }
}
