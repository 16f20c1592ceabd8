package io.keyrotor.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What every scenario of one run shares: the targets, the load runner, the run's shape (quick or
 * full, rounds, sizes) and the results collected so far.
 */
final class BenchRun {
  final boolean quick;
  final int rounds;
  final LoadRunner runner;
  final ProgressLine progress;
  final KeyrotorTarget keyrotor;
  final KeyrotorTarget keyrotorNoLease;
  final KeyrotorTarget keyrotorSoftHsm;
  final EchoTarget echo;
  final EtcdTarget etcd;
  final Path clusterDir;
  final Path clusterScript;
  final Path etcdDir;
  final int rewrapCount;
  final int incidentKeys;
  final List<Measurement> measurements = Collections.synchronizedList(new ArrayList<>());
  final List<Observation> observations = Collections.synchronizedList(new ArrayList<>());
  final List<String> notes = Collections.synchronizedList(new ArrayList<>());

  /** A cluster with {@code audit.data.enabled=false} (the audit scenario); null when not run. */
  KeyrotorTarget keyrotorAuditOff;

  /** Only arms whose target contains one of these (empty: all); for development runs. */
  List<String> armFilter = List.of();

  /** The encryption context every data-plane call carries (bound as associated data). */
  static final Map<String, String> CONTEXT = Map.of("tenant", "bench");

  BenchRun(
      boolean quick,
      int rounds,
      LoadRunner runner,
      ProgressLine progress,
      KeyrotorTarget keyrotor,
      KeyrotorTarget keyrotorNoLease,
      KeyrotorTarget keyrotorSoftHsm,
      EchoTarget echo,
      EtcdTarget etcd,
      Path clusterDir,
      Path clusterScript,
      Path etcdDir,
      int rewrapCount,
      int incidentKeys) {
    this.quick = quick;
    this.rounds = rounds;
    this.runner = runner;
    this.progress = progress;
    this.keyrotor = keyrotor;
    this.keyrotorNoLease = keyrotorNoLease;
    this.keyrotorSoftHsm = keyrotorSoftHsm;
    this.echo = echo;
    this.etcd = etcd;
    this.clusterDir = clusterDir;
    this.clusterScript = clusterScript;
    this.etcdDir = etcdDir;
    this.rewrapCount = rewrapCount;
    this.incidentKeys = incidentKeys;
  }

  /** Every keyrotor cluster of the run. */
  List<KeyrotorTarget> clusters() {
    List<KeyrotorTarget> out = new ArrayList<>();
    out.add(keyrotor);
    if (keyrotorNoLease != null) {
      out.add(keyrotorNoLease);
    }
    if (keyrotorSoftHsm != null) {
      out.add(keyrotorSoftHsm);
    }
    if (keyrotorAuditOff != null) {
      out.add(keyrotorAuditOff);
    }
    return out;
  }

  /** Asks every cluster and etcd who leads now (before a scenario: elections happen under load). */
  void refreshLeaders() {
    for (KeyrotorTarget cluster : clusters()) {
      String before = cluster.leaderAddress();
      cluster.refreshLeader(30_000);
      if (!before.equals(cluster.leaderAddress())) {
        notes.add(
            cluster.name + ": leader moved from " + before + " to " + cluster.leaderAddress());
      }
    }
    if (etcd != null) {
      etcd.refreshLeader(30_000);
    }
  }

  /**
   * Closed loops of every arm at {@code load}, in {@code rounds} rounds of alternating blocks: the
   * arms run in order in even rounds and in reverse in odd ones, so a drift in the machine's load
   * does not favour one side.
   */
  void closedAb(List<Arm> arms, int load, int roundCount) throws InterruptedException {
    for (int round = 0; round < roundCount; round++) {
      for (Arm arm : order(arms, round)) {
        if (!armFilter.isEmpty() && armFilter.stream().noneMatch(arm.target()::contains)) {
          continue;
        }
        measurements.add(runner.closedLoop(arm.scenario(), arm.target(), load, round, arm.op()));
      }
    }
  }

  /**
   * {@code rounds} rounded up to an even number: with {@link #order}, each arm of a pair then goes
   * first as often as the other, so neither pays more of the warm-up or of a drift in load.
   */
  static int evenRounds(int rounds) {
    return rounds + rounds % 2;
  }

  static <T> List<T> order(List<T> arms, int round) {
    List<T> out = new ArrayList<>(arms);
    if (round % 2 == 1) {
      Collections.reverse(out);
    }
    return out;
  }

  void observe(
      String scenario,
      String target,
      String name,
      double value,
      String unit,
      int round,
      String detail) {
    observations.add(new Observation(scenario, target, name, value, unit, round, detail));
  }

  /** The median throughput of the blocks of (scenario, target, load) so far, or NaN. */
  double medianThroughput(String scenario, String target, long load) {
    List<Double> values = new ArrayList<>();
    synchronized (measurements) {
      for (Measurement m : measurements) {
        if (m.scenario().equals(scenario) && m.target().equals(target) && m.load() == load) {
          values.add(m.throughput());
        }
      }
    }
    return Stats.median(values);
  }

  Duration seconds(double quickSeconds, double fullSeconds) {
    return Duration.ofMillis((long) ((quick ? quickSeconds : fullSeconds) * 1000));
  }

  static <T> T retrying(Supplier<T> call, int attempts) {
    RuntimeException last = null;
    for (int i = 0; i < attempts; i++) {
      try {
        return call.get();
      } catch (RuntimeException e) {
        last = e;
        Targets.sleep(200);
      }
    }
    throw last;
  }
}
