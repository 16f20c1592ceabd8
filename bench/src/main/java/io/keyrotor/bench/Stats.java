package io.keyrotor.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Small statistics over the few numbers a benchmark round yields. */
final class Stats {
  private Stats() {}

  /** The median (mean of the two middle values for an even count); NaN for no values. */
  static double median(Collection<Double> values) {
    List<Double> sorted = new ArrayList<>();
    for (Double v : values) {
      if (v != null && !v.isNaN()) {
        sorted.add(v);
      }
    }
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    sorted.sort(Double::compare);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  static double round(double value, int digits) {
    if (!Double.isFinite(value)) {
      return value;
    }
    double scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }
}
