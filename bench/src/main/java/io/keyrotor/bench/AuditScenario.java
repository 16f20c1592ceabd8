package io.keyrotor.bench;

import java.util.List;

/**
 * What the data-plane audit stream costs: Decrypt and GenerateDataKey at 64 in flight on the
 * cluster under test (every call audited, fail closed: the reply waits for its record to be synced)
 * against the same calls on a cluster started with {@code audit.data.enabled=false}, in alternating
 * blocks. Both clusters have the same settings otherwise and run side by side on the machine, as
 * the lease-off pair does. Runs only when named ({@code scripts/bench --scenarios audit}, which
 * starts the audit-off cluster).
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
    run.closedAb(
        List.of(
            new Arm("audit-decrypt", ON, run.keyrotor.decrypt(on.decrypts())),
            new Arm("audit-decrypt", OFF, off.decrypt(without.decrypts()))),
        DataPlaneScenario.LOAD,
        run.rounds);
    run.closedAb(
        List.of(
            new Arm("audit-gdk", ON, run.keyrotor.generateDataKey(on.keys(), BenchRun.CONTEXT)),
            new Arm("audit-gdk", OFF, off.generateDataKey(without.keys(), BenchRun.CONTEXT))),
        DataPlaneScenario.LOAD,
        run.rounds);
  }
}
