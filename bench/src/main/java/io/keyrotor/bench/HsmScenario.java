package io.keyrotor.bench;

import java.time.Duration;
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
    List<Arm> arms =
        List.of(
            new Arm(NAME, "keyrotor-software", run.keyrotor.decrypt(software.decrypts())),
            new Arm(NAME, "keyrotor-softhsm2", run.keyrotorSoftHsm.decrypt(hsm.decrypts())));
    // Both clusters equally warm: this scenario runs first, right after the global warm-up (before
    // the cluster under test serves the data-plane scenario), and each arm gets the same extra
    // Decrypt warm-up here. With the software arm warmed by the whole data-plane scenario and the
    // SoftHSM2 arm by the global warm-up only, single rounds showed 0.48-0.88x; equally warm,
    // 0.96-1.25x.
    for (Arm arm : arms) {
      run.runner.closedLoop(
          NAME + " warm-up",
          arm.target(),
          DataPlaneScenario.LOAD,
          0,
          arm.op(),
          Duration.ZERO,
          run.seconds(3, 10));
    }
    run.closedAb(arms, DataPlaneScenario.LOAD, run.rounds);
  }
}
