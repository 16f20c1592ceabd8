package io.keyrotor.consensus;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.thirdparty.com.codahale.metrics.MetricRegistry;
import org.apache.ratis.thirdparty.com.codahale.metrics.Reservoir;
import org.apache.ratis.thirdparty.com.codahale.metrics.Snapshot;
import org.apache.ratis.thirdparty.com.codahale.metrics.Timer;
import org.apache.ratis.thirdparty.com.codahale.metrics.UniformSnapshot;

/**
 * Ratis's timers on the write path without their samples. Ratis times every log write, sync and
 * client write with Dropwizard timers whose default reservoir ({@code
 * ExponentiallyDecayingReservoir}: a lock and a skip-list insert per update) was over half of the
 * Raft log worker's samples in a profile. keyrotor reads only the counts of Ratis's timers ({@link
 * RaftMetrics}), so the timers named here are registered, before Ratis asks for them, as timers
 * that count and keep rates but keep no samples (their percentiles read 0). Ratis 3.3.0 has no
 * setting for this; a registry registration hook (called when Ratis creates a member's registry,
 * before its components create their timers) is the public way in. A name Ratis no longer uses only
 * leaves that timer as Ratis makes it.
 */
final class RatisTimers {
  /** The timers of a member's registries that run on every write, by registry component. */
  static final Map<String, List<String>> ON_THE_WRITE_PATH =
      Map.of(
          "log_worker",
          List.of(
              "flushTime",
              "syncTime",
              "enqueuedTime",
              "queueingDelay",
              "appendEntryLatency",
              "writelogExecutionTime"),
          "server",
          List.of(
              "clientWriteRequest",
              "follower_append_entry_latency",
              "follower_append_entry_latency_heartbeat"));

  private static final AtomicBoolean INSTALLED = new AtomicBoolean();

  private RatisTimers() {}

  /**
   * From now on (once per JVM), every member registry Ratis creates gets the sample-less timers.
   */
  static void install() {
    if (INSTALLED.compareAndSet(false, true)) {
      MetricRegistries.global().addReporterRegistration(RatisTimers::preRegister, registry -> {});
    }
  }

  /** Whether {@code timer} is one of the sample-less timers. */
  static boolean keepsNoSamples(Timer timer) {
    return timer.getSnapshot() == NoSamples.EMPTY;
  }

  private static void preRegister(RatisMetricRegistry registry) {
    if (!(registry instanceof RatisMetricRegistryImpl impl)) {
      return;
    }
    MetricRegistryInfo info = registry.getMetricRegistryInfo();
    List<String> names = ON_THE_WRITE_PATH.get(info.getMetricsComponentName());
    if (names == null) {
      return;
    }
    // RatisMetricRegistryImpl's own naming: application, component, prefix, then the short name.
    String prefix =
        MetricRegistry.name(
            info.getApplicationName(), info.getMetricsComponentName(), info.getPrefix());
    MetricRegistry dropwizard = impl.getDropWizardMetricRegistry();
    for (String name : names) {
      String full = MetricRegistry.name(prefix, name);
      if (!dropwizard.getMetrics().containsKey(full)) {
        var unused = dropwizard.register(full, new Timer(new NoSamples()));
      }
    }
  }

  /** A reservoir that keeps nothing: the timer still counts and keeps its rates. */
  private static final class NoSamples implements Reservoir {
    static final Snapshot EMPTY = new UniformSnapshot(new long[0]);

    @Override
    public int size() {
      return 0;
    }

    @Override
    public void update(long value) {}

    @Override
    public Snapshot getSnapshot() {
      return EMPTY;
    }
  }
}
