package io.keyrotor.chaos.workload;

import io.keyrotor.chaos.history.HistoryRecorder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Runs the workloads: worker threads, each pinned to one node (worker w to node w mod N), pick a
 * workload by weight and send one operation at a time to their node, recording invoke and
 * completion in the history (README "Workload conventions"). Keys are replaced by fresh ones after
 * {@code opsPerKey} operations, so every key's history stays small enough for the linearizability
 * checker; all workers share a workload's current key (at most {@code workers} processes per key).
 *
 * <p>Error classification ({@link OpError}): a write is {@code fail} only when the server
 * guarantees it was not applied ({@link OpError#definite()}), otherwise {@code info} and the worker
 * continues under a new process id; a failed read had no effect and is a {@code fail}.
 *
 * <p>The parts: {@link KeySlots} (each workload's keys), {@link Worker} (each workload's
 * operations), {@link ClientProcess} (one operation recorded), {@link FinalPhase} (final reads and
 * status).
 */
public final class Workloads {
  /**
   * What to run.
   *
   * @param runId names the keys ({@code w1-<runId>-<n>})
   * @param workers worker threads (about 2 per node)
   * @param opsPerSecond the total target rate
   * @param opsPerKey operations on a key before the workload moves to a fresh key
   * @param workloads the workloads to run
   * @param scheduledPeriodMillis W5 keys' rotation period
   * @param seed the generator seed
   */
  public record Config(
      String runId,
      int workers,
      double opsPerSecond,
      int opsPerKey,
      Set<Workload> workloads,
      long scheduledPeriodMillis,
      long seed) {}

  private final Config config;
  private final List<NodeApi> nodes;
  private final RunState run;
  private final KeySlots keys;
  private final Set<Workload> active = EnumSet.noneOf(Workload.class);
  private final Map<Workload, String> skipped = new EnumMap<>(Workload.class);
  private final FinalPhase finalPhase;

  public Workloads(Config config, List<NodeApi> nodes, HistoryRecorder recorder) {
    this.config = config;
    this.nodes = List.copyOf(nodes);
    this.run = new RunState(config, recorder);
    this.keys = new KeySlots(run, this.nodes);
    this.finalPhase = new FinalPhase(run, this.nodes, keys, active);
  }

  /**
   * Creates the first key of each workload and probes the data plane (W3, W6) and the rotation
   * scheduler (W5). Not recorded: the checkers know keys start at version 1.
   */
  public void prepare() {
    SplittableRandom random = new SplittableRandom(config.seed() ^ 0x5EED);
    for (Workload w : config.workloads()) {
      if (w == Workload.W4) {
        continue; // reads W2's keys
      }
      keys.createFirst(w, random);
    }
    active.addAll(config.workloads());
    if (config.workloads().contains(Workload.W4) && !keys.has(Workload.W2)) {
      active.remove(Workload.W4);
      skipped.put(Workload.W4, "W4 reads W2's keys; run it with W2");
    }
    if (keys.has(Workload.W3) || keys.has(Workload.W6)) {
      String probeKey = keys.current(keys.has(Workload.W3) ? Workload.W3 : Workload.W6);
      String unavailable = probeDataPlane(probeKey);
      if (unavailable != null) {
        for (Workload w : List.of(Workload.W3, Workload.W6)) {
          if (active.remove(w)) {
            skipped.put(w, "skipped: data plane not available (" + unavailable + ")");
          }
        }
      }
    }
  }

  /** Null if Encrypt works, else why not (UNIMPLEMENTED until the data plane lands). */
  private String probeDataPlane(String key) {
    OpError last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        nodes.get(0).encrypt(key, "probe".getBytes(StandardCharsets.UTF_8));
        return null;
      } catch (OpError e) {
        if (e.unimplemented()) {
          return "Encrypt answered " + e.describe();
        }
        last = e;
      }
      RunState.sleep(1000);
    }
    return "Encrypt failed 5 times: " + last.describe();
  }

  /** The workloads that ran, and why the others did not. */
  public Set<Workload> active() {
    return EnumSet.copyOf(active.isEmpty() ? EnumSet.noneOf(Workload.class) : active);
  }

  public Map<Workload, String> skipped() {
    Map<Workload, String> out = new EnumMap<>(Workload.class);
    out.putAll(skipped);
    if (active.contains(Workload.W5) && !run.scheduledRotationSeen()) {
      out.put(
          Workload.W5,
          "n/a: no scheduled rotation observed (this server has no rotation scheduler yet)");
    }
    return out;
  }

  /** Whether any read saw a version made by scheduled rotation. */
  public boolean scheduledRotationSeen() {
    return run.scheduledRotationSeen();
  }

  /** Every key each workload used. */
  public Map<Workload, List<String>> keys() {
    Map<Workload, List<String>> out = new EnumMap<>(Workload.class);
    keys.all().forEach((w, list) -> out.put(w, List.copyOf(list)));
    return out;
  }

  /** Runs the workers for {@code duration}, then returns (operations in flight are let finish). */
  public void run(Duration duration) throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    SplittableRandom seeds = new SplittableRandom(config.seed());
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < config.workers(); w++) {
      Worker worker =
          new Worker(run, keys, active, nodes.get(w % nodes.size()), seeds.split(), deadline);
      Thread thread = new Thread(worker, "chaos-worker-" + w);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
  }

  /** Stops the workers early. */
  public void stop() {
    run.stop();
  }

  /**
   * After the heal: reads every key on every node (list-versions for rotated keys, get-primary and
   * final-get-version for W2's, final-list-scheduled for W5's), and re-decrypts every acknowledged
   * W3 ciphertext on every node. One process per node.
   */
  public void finalReads() {
    finalPhase.reads();
  }

  /**
   * Before the final phase: the scheduler must stop writing, or the nodes never hold still for the
   * convergence check. Removes the rotation period of every W5 key (recorded as {@code
   * stop-schedule}; retried on another node until it is applied).
   */
  public void stopScheduledRotations() {
    finalPhase.stopScheduledRotations();
  }

  /**
   * Records one {@code final-status} per node (applied index and state digest), in rounds until
   * every node reports the same applied index or {@code patience} runs out: background commands
   * (usage reports, a node registering after its restart) may still be applying. The last round
   * counts.
   */
  public void finalStatus(Duration patience) {
    finalPhase.status(patience);
  }
}
