package io.keyrotor.chaos.workload;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Each workload's current key and the keys it used before: a key is replaced by a fresh one ({@code
 * <prefix>-<runId>-<n>}) after {@code opsPerKey} operations (W5: a quarter, at least 20), so every
 * key's history stays small enough for the linearizability checker. All workers share a workload's
 * current key.
 */
final class KeySlots {
  private final RunState run;
  private final List<NodeApi> nodes;
  private final Map<Workload, Slot> slots = new EnumMap<>(Workload.class);

  KeySlots(RunState run, List<NodeApi> nodes) {
    this.run = run;
    this.nodes = nodes;
  }

  /** One workload's keys. */
  private final class Slot {
    final Workload workload;
    final List<String> all = new CopyOnWriteArrayList<>();
    final AtomicInteger ops = new AtomicInteger();
    final AtomicBoolean rolling = new AtomicBoolean();
    volatile String current;
    int generation;

    Slot(Workload workload, String first) {
      this.workload = workload;
      this.current = first;
      all.add(first);
    }

    int limit() {
      int opsPerKey = run.config.opsPerKey();
      return workload == Workload.W5 ? Math.max(20, opsPerKey / 4) : opsPerKey;
    }

    String acquire(SplittableRandom random) {
      if (ops.incrementAndGet() >= limit() && rolling.compareAndSet(false, true)) {
        try {
          String next = keyName(workload, generation + 1);
          if (createKey(next, workload, random, Duration.ofSeconds(20))) {
            generation++;
            current = next;
            all.add(next);
            ops.set(0);
          }
        } finally {
          rolling.set(false);
        }
      }
      return current;
    }
  }

  /**
   * Creates the workload's first key (retrying on other nodes for up to a minute).
   *
   * @throws IllegalStateException if it could not be created
   */
  void createFirst(Workload workload, SplittableRandom random) {
    String first = keyName(workload, 0);
    if (!createKey(first, workload, random, Duration.ofSeconds(60))) {
      throw new IllegalStateException("could not create the first key of " + workload);
    }
    slots.put(workload, new Slot(workload, first));
  }

  boolean has(Workload workload) {
    return slots.containsKey(workload);
  }

  /** The workload's current key. */
  String current(Workload workload) {
    return slots.get(workload).current;
  }

  /** The workload's current key, counting one operation on it (and replacing it when it is due). */
  String acquire(Workload workload, SplittableRandom random) {
    return slots.get(workload).acquire(random);
  }

  /** Every key each workload used so far, by workload (live lists). */
  Map<Workload, List<String>> all() {
    Map<Workload, List<String>> out = new EnumMap<>(Workload.class);
    slots.forEach((w, s) -> out.put(w, s.all));
    return out;
  }

  /** Every key one workload used so far; empty if it has none. */
  List<String> all(Workload workload) {
    Slot slot = slots.get(workload);
    return slot == null ? List.of() : slot.all;
  }

  private String keyName(Workload workload, int generation) {
    return workload.prefix() + "-" + run.config.runId() + "-" + generation;
  }

  private boolean createKey(
      String name, Workload workload, SplittableRandom random, Duration patience) {
    long deadline = System.nanoTime() + patience.toNanos();
    long period = workload == Workload.W5 ? run.config.scheduledPeriodMillis() : 0;
    int node = random.nextInt(nodes.size());
    while (System.nanoTime() < deadline && !run.stopped()) {
      try {
        nodes.get(node).createKey(name, period, "create-" + name);
        return true;
      } catch (OpError e) {
        if ("ALREADY_EXISTS".equals(e.code())) {
          return true;
        }
        node = (node + 1) % nodes.size();
        RunState.sleep(300);
      }
    }
    return false;
  }
}
