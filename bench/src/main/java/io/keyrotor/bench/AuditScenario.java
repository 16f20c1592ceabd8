package io.keyrotor.bench;

import java.util.List;

/**
 * What the data-plane audit stream costs: Decrypt and GenerateDataKey at 64 in flight on the
 * cluster under test (every call audited, fail closed: the reply waits for its record to be synced)
 * against the same calls on a cluster started with {@code audit.data.enabled=false}, in alternating
 * blocks. Both clusters have the same settings otherwise and run side by side on the machine, as
 * the lease-off pair does. Each arm runs one unmeasured block first, and the rounds are rounded up
 * to an even number so each arm goes first as often as the other. Runs only when named ({@code
 * scripts/bench --scenarios audit}, which starts the audit-off cluster).
 */
final class AuditScenario {
  static final String ON = "keyrotor-audit-on";
  static final String OFF = "keyrotor-audit-off";

  private AuditScenario() {}

  static void run(BenchRun run) throws InterruptedException {
    KeyrotorTarget off = run.keyrotorAuditOff;
    if (off == null) {
      throw new IllegalStateException(
          "the audit scenario needs a cluster with audit.data.enabled=false"
              + " (--servers-audit-off; scripts/bench --scenarios audit starts one)");
    }
    int dataKeys = run.quick ? 1000 : 4096;
    DataPlaneScenario.Material on = DataPlaneScenario.material(run.keyrotor, run, dataKeys);
    DataPlaneScenario.Material without = DataPlaneScenario.material(off, run, dataKeys);
    run.notes.add(
        "audit: the same Decrypt and GenerateDataKey calls on the cluster under test (data audit"
            + " on, fail closed) and on a cluster with audit.data.enabled=false");
    List<List<Arm>> pairs =
        List.of(
            List.of(
                new Arm("audit-decrypt", ON, run.keyrotor.decrypt(on.decrypts())),
                new Arm("audit-decrypt", OFF, off.decrypt(without.decrypts()))),
            List.of(
                new Arm("audit-gdk", ON, run.keyrotor.generateDataKey(on.keys(), BenchRun.CONTEXT)),
                new Arm("audit-gdk", OFF, off.generateDataKey(without.keys(), BenchRun.CONTEXT))));
    for (List<Arm> pair : pairs) {
      // An unmeasured block of each arm first, then an even number of rounds.
      for (Arm arm : pair) {
        var unusedWarmUp =
            run.runner.closedLoop(arm.scenario(), "warm-up", DataPlaneScenario.LOAD, 0, arm.op());
      }
      run.closedAb(pair, DataPlaneScenario.LOAD, BenchRun.evenRounds(run.rounds));
    }
  }
}
