package io.keyrotor.server.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Exposes a Dropwizard {@link MetricRegistry} to Prometheus: every metric named {@code a.b-c}
 * becomes {@code keyrotor_a_b_c}. Gauges with a numeric value are gauges, counters and meters are
 * counters (their count), timers are summaries in seconds and histograms summaries (count, sum
 * estimated from the reservoir's mean, the median and the 99th percentile).
 *
 * <p>The Prometheus Java client's own Dropwizard bridge is not available to this build, and the
 * mapping it needs is this small. The registry's names carry no key names or material (see {@link
 * NodeMetrics}), so neither does the output; metrics whose names {@code skip} accepts (those the
 * node exports natively, with labels) are left out.
 */
final class DropwizardBridge implements MultiCollector {
  private static final double NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);

  private final MetricRegistry registry;
  private final String prefix;
  private final Predicate<String> skip;

  DropwizardBridge(MetricRegistry registry, String prefix, Predicate<String> skip) {
    this.registry = registry;
    this.prefix = prefix;
    this.skip = skip;
  }

  @Override
  public MetricSnapshots collect() {
    List<MetricSnapshot> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (Map.Entry<String, Metric> entry : registry.getMetrics().entrySet()) {
      if (skip.test(entry.getKey())) {
        continue;
      }
      MetricSnapshot snapshot = snapshotOf(name(prefix, entry.getKey()), entry.getValue());
      // Two Dropwizard names may sanitise to one Prometheus name: the first (sorted) wins.
      if (snapshot != null && seen.add(snapshot.getMetadata().getPrometheusName())) {
        out.add(snapshot);
      }
    }
    return new MetricSnapshots(out);
  }

  /** {@code prefix_} + {@code dropwizardName} with every character Prometheus refuses as '_'. */
  static String name(String prefix, String dropwizardName) {
    String name =
        PrometheusNaming.sanitizeMetricName(
            (prefix + "_" + dropwizardName).replaceAll("[^a-zA-Z0-9_]", "_"));
    // Prometheus reserves these endings for the series of counters, histograms and info.
    for (String reserved : List.of("_total", "_created", "_bucket", "_info", "_count", "_sum")) {
      if (name.endsWith(reserved)) {
        return name + "_value";
      }
    }
    return name;
  }

  private static MetricSnapshot snapshotOf(String name, Metric metric) {
    if (metric instanceof Gauge<?> gauge) {
      Object value;
      try {
        value = gauge.getValue();
      } catch (RuntimeException e) {
        return null; // the part behind the gauge is closing
      }
      if (!(value instanceof Number number)) {
        return null;
      }
      return GaugeSnapshot.builder()
          .name(name)
          .dataPoint(
              GaugeSnapshot.GaugeDataPointSnapshot.builder().value(number.doubleValue()).build())
          .build();
    }
    if (metric instanceof Counter counter) {
      return counter(name, counter.getCount());
    }
    if (metric instanceof Timer timer) {
      return summary(name + "_seconds", timer.getCount(), timer.getSnapshot(), NANOS_PER_SECOND);
    }
    if (metric instanceof Meter meter) {
      return counter(name, meter.getCount());
    }
    if (metric instanceof Histogram histogram) {
      return summary(name, histogram.getCount(), histogram.getSnapshot(), 1);
    }
    return null;
  }

  private static MetricSnapshot counter(String name, long count) {
    return CounterSnapshot.builder()
        .name(name)
        .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value((double) count).build())
        .build();
  }

  private static MetricSnapshot summary(String name, long count, Snapshot values, double divisor) {
    return SummarySnapshot.builder()
        .name(name)
        .dataPoint(
            SummarySnapshot.SummaryDataPointSnapshot.builder()
                .count(count)
                .sum(values.getMean() * count / divisor)
                .quantiles(
                    Quantiles.builder()
                        .quantile(0.5, values.getMedian() / divisor)
                        .quantile(0.99, values.get99thPercentile() / divisor)
                        .build())
                .labels(Labels.EMPTY)
                .build())
        .build();
  }
}
