package io.keyrotor.server.dataplane;

import io.keyrotor.proto.internal.v1.UsageCount;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;

/**
 * What this node's data plane did with ciphertexts per key version since its last report: sealed
 * under the version (data keys, Encrypt payloads, ReEncrypt results) and opened under it to be
 * sealed again under another key or version (ReEncrypt, BatchReEncrypt). {@link
 * DataKeyUsageReporter} drains it into ReportUsage commands, so the counts reach the replicated
 * state; until then they live only here, and a node that stops loses them.
 *
 * <p>The hot path is one map lookup and one atomic add. The map holds one entry per version this
 * node used, bounded by {@link #MAX_VERSIONS} (uses of further versions are counted in {@link
 * #untracked()} instead, and never reported); entries of versions that no longer decrypt anywhere
 * are dropped by {@link #retain}.
 */
public final class DataKeyUsage {
  /** The most versions counted at once. */
  public static final int MAX_VERSIONS = 100_000;

  /** Counts nothing: tools and benchmarks without a cluster. */
  static final DataKeyUsage NONE = new DataKeyUsage(0);

  private record Slot(String keyName, int version) {}

  private static final class Counts {
    final AtomicLong issued = new AtomicLong();
    final AtomicLong rewrappedAway = new AtomicLong();
  }

  private final int maxVersions;
  private final Map<Slot, Counts> counts = new ConcurrentHashMap<>();
  private final AtomicLong untracked = new AtomicLong();

  /** Counts up to {@link #MAX_VERSIONS} versions. */
  public DataKeyUsage() {
    this(MAX_VERSIONS);
  }

  DataKeyUsage(int maxVersions) {
    this.maxVersions = maxVersions;
  }

  /** A ciphertext was sealed under {@code version} of {@code keyName}. */
  void issued(String keyName, int version) {
    Counts c = slot(keyName, version);
    if (c != null) {
      c.issued.incrementAndGet();
    }
  }

  /** A ciphertext under {@code version} of {@code keyName} was sealed again elsewhere. */
  void rewrappedAway(String keyName, int version) {
    Counts c = slot(keyName, version);
    if (c != null) {
      c.rewrappedAway.incrementAndGet();
    }
  }

  /**
   * Takes every count since the last drain, sorted by key and version, and leaves zero behind; the
   * versions with nothing to report are left out.
   */
  public List<UsageCount> drain() {
    List<UsageCount> out = new ArrayList<>();
    counts.forEach(
        (slot, c) -> {
          long issued = c.issued.getAndSet(0);
          long away = c.rewrappedAway.getAndSet(0);
          if (issued != 0 || away != 0) {
            out.add(
                UsageCount.newBuilder()
                    .setName(slot.keyName())
                    .setVersion(slot.version())
                    .setDataKeysIssued(issued)
                    .setDataKeysRewrappedAway(away)
                    .build());
          }
        });
    out.sort(Comparator.comparing(UsageCount::getName).thenComparingInt(UsageCount::getVersion));
    return out;
  }

  /** Drops the versions {@code keep} refuses (versions that no longer exist or decrypt). */
  void retain(BiPredicate<String, Integer> keep) {
    counts.keySet().removeIf(slot -> !keep.test(slot.keyName(), slot.version()));
  }

  /** Uses not counted because {@link #MAX_VERSIONS} versions were already counted. */
  public long untracked() {
    return untracked.get();
  }

  private Counts slot(String keyName, int version) {
    if (maxVersions == 0) {
      return null; // counts nothing, and takes no shared counter on the hot path
    }
    Slot slot = new Slot(keyName, version);
    Counts c = counts.get(slot);
    if (c != null) {
      return c;
    }
    if (counts.size() >= maxVersions) {
      untracked.incrementAndGet();
      return null;
    }
    return counts.computeIfAbsent(slot, s -> new Counts());
  }
}
