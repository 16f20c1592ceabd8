package io.keyrotor.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.UUID;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.Timekeeper;
import org.apache.ratis.metrics.impl.RatisMetricRegistryImpl;
import org.apache.ratis.thirdparty.com.codahale.metrics.Timer;
import org.junit.jupiter.api.Test;

/** On Ratis's real (global) metric registries, as a member's log worker creates them. */
class RatisTimersTest {
  @Test
  void logWorkerSyncTimer_countsWithoutSamplesAndItsCountStillReachesTheNodeMetrics() {
    RatisTimers.install();
    String member = "n-" + UUID.randomUUID() + "@group";
    MetricRegistryInfo info =
        new MetricRegistryInfo(member, "ratis", "log_worker", "a member's log worker");
    RatisMetricRegistry registry = MetricRegistries.global().create(info);
    try {
      Timekeeper sync = registry.timer("syncTime");
      Timekeeper other = registry.timer("readEntryLatency");
      sync.time().stop();
      sync.time().stop();
      other.time().stop();

      Map<String, org.apache.ratis.thirdparty.com.codahale.metrics.Metric> metrics =
          ((RatisMetricRegistryImpl) registry).getDropWizardMetricRegistry().getMetrics();
      Timer syncTimer = timerEndingWith(metrics, ".syncTime");
      Timer otherTimer = timerEndingWith(metrics, ".readEntryLatency");
      assertTrue(RatisTimers.keepsNoSamples(syncTimer), "the sync timer keeps no samples");
      assertEquals(2, syncTimer.getCount());
      assertFalse(RatisTimers.keepsNoSamples(otherTimer), "a timer off the write path is Ratis's");
      assertEquals(1, otherTimer.getCount());
      assertEquals(
          2.0,
          RaftMetrics.ratisMetrics(member).entrySet().stream()
              .filter(e -> e.getKey().endsWith("syncTime"))
              .findFirst()
              .orElseThrow()
              .getValue());
    } finally {
      MetricRegistries.global().remove(info);
    }
  }

  private static Timer timerEndingWith(
      Map<String, org.apache.ratis.thirdparty.com.codahale.metrics.Metric> metrics, String suffix) {
    return metrics.entrySet().stream()
        .filter(e -> e.getKey().endsWith(suffix))
        .map(e -> (Timer) e.getValue())
        .findFirst()
        .orElseThrow(() -> new AssertionError("no timer named *" + suffix + " in " + metrics));
  }
}
