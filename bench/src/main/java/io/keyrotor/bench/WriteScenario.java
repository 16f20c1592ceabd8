package io.keyrotor.bench;

import io.keyrotor.api.v1.CreateKeyRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Durable writes, acknowledged once a majority has the entry on disk: keyrotor's CreateKey (a new
 * key with a KEK generated and wrapped by the HSM) and RotateKey (a new version, primary at once),
 * against etcd's put of a value the size of the stored key record, at 64 in flight and with a
 * single client (latency).
 */
final class WriteScenario {
  static final String NAME = "write";

  private WriteScenario() {}

  static void run(BenchRun run) throws InterruptedException {
    List<String> rotated =
        run.keyrotor.createKeys("rotate", "default", run.quick ? 500 : 2000, run.progress);
    int recordSize =
        run.keyrotor.getKey(run.keyrotor.leaderAddress(), rotated.get(0)).getSerializedSize();
    CreateKeyRequest sample = KeyrotorTarget.sampleCreateKeyRequest(run.keyrotor.runId);
    run.notes.add(
        String.format(
            "write: CreateKey request %d B, stored key record ~%d B (GetKey reply of a fresh key);"
                + " etcd puts %d B values; RotateKey cycles over %d keys",
            sample.getSerializedSize(), recordSize, recordSize, rotated.size()));
    warmWrites(run, rotated);
    for (int load : List.of(64, 1)) {
      List<Arm> arms = new ArrayList<>();
      arms.add(new Arm(NAME, "keyrotor-CreateKey", run.keyrotor.createKey("c" + load)));
      arms.add(new Arm(NAME, "keyrotor-RotateKey", run.keyrotor.rotateKey(rotated)));
      if (run.etcd != null) {
        arms.add(new Arm(NAME, "etcd-put", run.etcd.put("p" + load, recordSize)));
      }
      for (int round = 0; round < run.rounds; round++) {
        for (Arm arm : BenchRun.order(arms, round)) {
          if (run.armFilter.isEmpty() || run.armFilter.stream().anyMatch(arm.target()::contains)) {
            run.measurements.add(run.runner.closedLoop(NAME, arm.target(), load, round, arm.op()));
            if (arm.target().equals("keyrotor-RotateKey")) {
              settle(run);
            }
          }
        }
      }
    }
  }

  /**
   * Before the first block: CreateKey and RotateKey at 64 in flight until {@value #WARM_WRITES} of
   * each completed ({@value #QUICK_WARM_WRITES} in quick runs), or a time cap. A write path
   * measured after a warm-up of a few seconds runs largely in the interpreter: one client's
   * CreateKey p50 fell from 12-16 ms to a few ms over the first 10,000-20,000 writes on a 3-node
   * cluster (BENCHMARKS.md, "Where the milliseconds go"), and a cold path is slower at 64 in flight
   * too, so a time-based warm-up gave it fewer calls than a warm one. Nothing is recorded.
   */
  static void warmWrites(BenchRun run, List<String> rotated) throws InterruptedException {
    long count = run.quick ? QUICK_WARM_WRITES : WARM_WRITES;
    Duration cap = run.seconds(30, 90);
    run.progress.status("write: warming the write path (" + count + " of each write, by count)");
    long created = LoadRunner.warmUntil(run.keyrotor.createKey("w"), 64, count, cap);
    long rotations = LoadRunner.warmUntil(run.keyrotor.rotateKey(rotated), 64, count, cap);
    settle(run);
    run.notes.add(
        String.format(
            "write: warm-up by count before the blocks: %d CreateKey and %d RotateKey at 64 in"
                + " flight (target %d each, cap %d s)",
            created, rotations, count, cap.toSeconds()));
  }

  /** Writes of each kind before the first write block (full runs). */
  static final long WARM_WRITES = 20_000;

  /** Writes of each kind before the first write block (quick runs). */
  static final long QUICK_WARM_WRITES = 5_000;

  /**
   * After a block of rotations the nodes keep working for a while (each applied rotation queues a
   * scan of every key on every node: see BENCHMARKS.md); the next block must not pay for it.
   */
  static void settle(BenchRun run) throws InterruptedException {
    run.progress.status("write: letting the nodes finish the work the rotations queued");
    Thread.sleep(run.quick ? 2_000 : 5_000);
  }
}
