package io.keyrotor.server.rotation;

import io.keyrotor.proto.internal.v1.UsageCount;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts data-plane encryptions and data keys per (key, version) on this node, between reports.
 * Lock-free on the hot path: one map lookup and one adder increment.
 */
public final class UsageCounter {
  /** Counts nothing (tools and tests that do not report usage). */
  public static final UsageCounter NONE = new UsageCounter(false);

  private record Slot(String name, int version) {}

  private final boolean enabled;
  private final Map<Slot, LongAdder> counts = new ConcurrentHashMap<>();

  public UsageCounter() {
    this(true);
  }

  private UsageCounter(boolean enabled) {
    this.enabled = enabled;
  }

  /** One encryption (or data key) under {@code version} of {@code name}. */
  public void record(String name, int version) {
    if (enabled) {
      counts.computeIfAbsent(new Slot(name, version), s -> new LongAdder()).increment();
    }
  }

  /** The counts since the last drain, reset to zero (a count racing the drain goes to the next). */
  public List<UsageCount> drain() {
    List<UsageCount> out = new ArrayList<>();
    for (Map.Entry<Slot, LongAdder> entry : counts.entrySet()) {
      long n = entry.getValue().sumThenReset();
      if (n > 0) {
        out.add(
            UsageCount.newBuilder()
                .setName(entry.getKey().name())
                .setVersion(entry.getKey().version())
                .setEncryptions(n)
                .build());
      }
    }
    out.sort(
        java.util.Comparator.comparing(UsageCount::getName).thenComparing(UsageCount::getVersion));
    return out;
  }

  /** Puts counts that could not be reported back, to go with the next report. */
  public void restore(List<UsageCount> unreported) {
    for (UsageCount count : unreported) {
      counts
          .computeIfAbsent(new Slot(count.getName(), count.getVersion()), s -> new LongAdder())
          .add(count.getEncryptions());
    }
  }
}
