package io.keyrotor.bench;

import io.keyrotor.api.v1.DecryptRequest;
import java.util.List;

/**
 * A service-like mix in an open loop: 90 % Decrypt, 9 % GenerateDataKey, 1 % RotateKey, stepped up
 * from below the Decrypt throughput until a step has p99 above 5 ms or any error. Records the
 * highest rate that passed.
 */
final class MixedScenario {
  static final String NAME = "mixed";
  static final double P99_LIMIT_MICROS = 5_000;

  private MixedScenario() {}

  /** Which call the {@code sequence}-th request of the mix is: 0 decrypt, 1 data key, 2 rotate. */
  static int kind(long sequence) {
    int slot = (int) (sequence % 100);
    return slot < 90 ? 0 : slot < 99 ? 1 : 2;
  }

  static void run(BenchRun run, DataPlaneScenario.Material material) throws InterruptedException {
    List<String> rotated = run.keyrotor.createKeys("mixrot", "default", 100, run.progress);
    List<DecryptRequest> decrypts = material.decrypts();
    Operation decrypt = run.keyrotor.decrypt(decrypts);
    Operation gdk = run.keyrotor.generateDataKey(material.keys(), BenchRun.CONTEXT);
    Operation rotate = run.keyrotor.rotateKey(rotated);
    Operation mix =
        sequence ->
            switch (kind(sequence)) {
              case 0 -> decrypt.start(sequence);
              case 1 -> gdk.start(sequence);
              default -> rotate.start(sequence / 100);
            };
    double decryptMax = run.medianThroughput("decrypt", "keyrotor", DataPlaneScenario.LOAD);
    long start = Double.isNaN(decryptMax) ? 2_000 : Math.max(200, Math.round(decryptMax * 0.4));
    int[] step = {0};
    long best =
        SteppedSearch.highestPassing(
            start,
            1.25,
            run.quick ? 6 : 12,
            rate -> {
              Measurement m =
                  run.runner.openLoop(
                      NAME,
                      "keyrotor",
                      rate,
                      step[0]++,
                      mix,
                      run.seconds(0.5, 2),
                      run.runner.measureDuration());
              run.measurements.add(m);
              return m.errorCount() == 0
                  && m.percentileMicros(99) <= P99_LIMIT_MICROS
                  && m.throughput() >= 0.95 * rate;
            });
    run.observe(
        NAME,
        "keyrotor",
        "max_rate_p99_5ms",
        best,
        "ops/s",
        0,
        "open loop 90/9/1 Decrypt/GenerateDataKey/RotateKey, steps x1.25 from " + start + "/s");
  }
}
