package io.keyrotor.bench;

/**
 * Finds the highest offered rate that a step passes: from {@code start} up by {@code factor} until
 * a step fails; if the very first step fails, down by {@code factor}² until one passes. At most
 * {@code maxSteps} steps in all.
 */
final class SteppedSearch {
  /** One measured step at a rate: true when it met the criterion. */
  @FunctionalInterface
  interface Step {
    boolean passes(long rate) throws InterruptedException;
  }

  private SteppedSearch() {}

  /** The highest passing rate seen, or 0 when none passed. */
  static long highestPassing(long start, double factor, int maxSteps, Step step)
      throws InterruptedException {
    if (start < 1 || factor <= 1 || maxSteps < 1) {
      throw new IllegalArgumentException("start >= 1, factor > 1 and maxSteps >= 1 required");
    }
    long rate = start;
    long best = 0;
    boolean descending = false;
    for (int i = 0; i < maxSteps; i++) {
      boolean passed = step.passes(rate);
      if (passed) {
        best = Math.max(best, rate);
        if (descending) {
          return best;
        }
        rate = Math.max(rate + 1, Math.round(rate * factor));
      } else if (best > 0) {
        return best;
      } else {
        descending = true;
        long lower = Math.round(rate / (factor * factor)); // coarser on the way down
        if (lower < 1 || lower == rate) {
          return 0;
        }
        rate = lower;
      }
    }
    return best;
  }
}
