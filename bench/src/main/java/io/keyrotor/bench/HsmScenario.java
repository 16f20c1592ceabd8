package io.keyrotor.bench;

import java.util.List;

/**
 * Issue 3: Decrypt at 64 in flight on a cluster whose nodes use SoftHSM2 tokens (PKCS#11) against
 * the software-HSM cluster, alternating. Both serve from the KEK cache, so the HSM should not show;
 * the target is at least 95 %.
 */
final class HsmScenario {
  static final String NAME = "decrypt-hsm";

  private HsmScenario() {}

  static void run(BenchRun run, DataPlaneScenario.Material software) throws InterruptedException {
    if (run.keyrotorSoftHsm == null) {
      run.notes.add("decrypt-hsm: skipped (no SoftHSM2 cluster)");
      return;
    }
    int dataKeys = run.quick ? 1000 : 4096;
    DataPlaneScenario.Material hsm = DataPlaneScenario.material(run.keyrotorSoftHsm, run, dataKeys);
    run.closedAb(
        List.of(
            new Arm(NAME, "keyrotor-software", run.keyrotor.decrypt(software.decrypts())),
            new Arm(NAME, "keyrotor-softhsm2", run.keyrotorSoftHsm.decrypt(hsm.decrypts()))),
        DataPlaneScenario.LOAD,
        run.rounds);
  }
}
