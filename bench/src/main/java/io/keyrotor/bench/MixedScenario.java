package io.keyrotor.bench;

import io.keyrotor.api.v1.DecryptRequest;
import java.util.List;

/**
 * A service-like mix in an open loop: 90 % Decrypt, 9 % GenerateDataKey, 1 % RotateKey, stepped up
 * from 15 % of the Decrypt throughput (down if that already fails) until a step has p99 above 5 ms
 * or any error. Records the highest rate that passed, and each step's service time per kind of call
 * (with 1 % writes, the writes' latency decides the p99).
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
    // Service time per kind (from the call's start), to tell which kind sets the mix's p99.
    org.HdrHistogram.Recorder[] perKind = new org.HdrHistogram.Recorder[3];
    for (int i = 0; i < 3; i++) {
      perKind[i] = new org.HdrHistogram.Recorder(LoadRunner.MAX_TRACKABLE_MICROS, 3);
    }
    Operation mix =
        sequence -> {
          int kind = kind(sequence);
          long started = System.nanoTime();
          com.google.common.util.concurrent.ListenableFuture<?> call =
              switch (kind) {
                case 0 -> decrypt.start(sequence);
                case 1 -> gdk.start(sequence);
                default -> rotate.start(sequence / 100);
              };
          call.addListener(
              () ->
                  perKind[kind].recordValue(
                      Math.min(
                          LoadRunner.MAX_TRACKABLE_MICROS, (System.nanoTime() - started) / 1_000)),
              Runnable::run);
          return call;
        };
    double decryptMax = run.medianThroughput("decrypt", "keyrotor", DataPlaneScenario.LOAD);
    long start = Double.isNaN(decryptMax) ? 1_000 : Math.max(200, Math.round(decryptMax * 0.15));
    int[] step = {0};
    long best =
        SteppedSearch.highestPassing(
            start,
            1.25,
            run.quick ? 6 : 12,
            rate -> {
              for (org.HdrHistogram.Recorder r : perKind) {
                r.reset();
              }
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
              String[] names = {"Decrypt", "GenerateDataKey", "RotateKey"};
              StringBuilder kinds = new StringBuilder();
              for (int i = 0; i < 3; i++) {
                org.HdrHistogram.Histogram h = perKind[i].getIntervalHistogram();
                kinds.append(
                    String.format(
                        "%s%s p50 %d us p99 %d us",
                        i == 0 ? "" : ", ",
                        names[i],
                        h.getValueAtPercentile(50),
                        h.getValueAtPercentile(99)));
              }
              run.notes.add(String.format("mixed at %,d/s: service times %s", rate, kinds));
              return m.errorCount() == 0
                  && m.percentileMicros(99) <= P99_LIMIT_MICROS
                  && m.throughput() >= 0.95 * rate;
            });
    run.observe(
        NAME,
        "keyrotor",
        "max_rate_p99_5ms",
        (double) best,
        "ops/s",
        0,
        "open loop 90/9/1 Decrypt/GenerateDataKey/RotateKey, steps x1.25 from " + start + "/s");
  }
}
