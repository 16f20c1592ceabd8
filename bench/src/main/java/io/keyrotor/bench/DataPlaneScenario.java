package io.keyrotor.bench;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import java.util.List;

/**
 * The data plane against the transport's ceiling: Decrypt of a data key and GenerateDataKey on the
 * leader at 64 in flight, each against the bare gRPC echo with the same request and reply sizes
 * (same JVM options and grpc-java server defaults); then each at half the throughput it reached, in
 * an open loop, for its p99. Also Decrypt on the SoftHSM2 cluster against the software-HSM one
 * (both hit the KEK cache, so the HSM should not show).
 */
final class DataPlaneScenario {
  static final int LOAD = 64;

  /** What the mixed scenario reuses: keys and data keys wrapped under them. */
  record Material(List<String> keys, List<DecryptRequest> decrypts) {}

  private DataPlaneScenario() {}

  static Material material(KeyrotorTarget cluster, BenchRun run, int dataKeys)
      throws InterruptedException {
    List<String> keys = cluster.createKeys("dp", "default", 16, run.progress);
    List<ByteString> wrapped =
        cluster.wrappedDataKeys(keys, BenchRun.CONTEXT, dataKeys, run.progress);
    return new Material(keys, KeyrotorTarget.decryptRequests(wrapped, BenchRun.CONTEXT));
  }

  static Material run(BenchRun run) throws InterruptedException {
    Material material = material(run.keyrotor, run, run.quick ? 1000 : 4096);
    DecryptRequest decrypt = material.decrypts().get(0);
    int decryptReply =
        run.keyrotor.blocking(run.keyrotor.leaderAddress()).decrypt(decrypt).getSerializedSize();
    GenerateDataKeyRequest gdk =
        GenerateDataKeyRequest.newBuilder()
            .setKeyName(material.keys().get(0))
            .putAllContext(BenchRun.CONTEXT)
            .build();
    int gdkReply =
        run.keyrotor
            .blocking(run.keyrotor.leaderAddress())
            .generateDataKey(gdk)
            .getSerializedSize();
    run.notes.add(
        String.format(
            "data plane: Decrypt request %d B / reply %d B; GenerateDataKey request %d B / reply"
                + " %d B; echo arms use the same sizes",
            decrypt.getSerializedSize(), decryptReply, gdk.getSerializedSize(), gdkReply));
    Operation decryptOp = run.keyrotor.decrypt(material.decrypts());
    Operation gdkOp = run.keyrotor.generateDataKey(material.keys(), BenchRun.CONTEXT);
    againstEcho(run, "decrypt", decryptOp, decrypt.getSerializedSize(), decryptReply);
    againstEcho(run, "gdk", gdkOp, gdk.getSerializedSize(), gdkReply);
    // p99 at half the throughput each reached.
    for (int round = 0; round < run.rounds; round++) {
      for (String scenario : BenchRun.order(List.of("decrypt", "gdk"), round)) {
        double max = run.medianThroughput(scenario, "keyrotor", LOAD);
        long half = Math.max(100, Math.round(max / 2));
        run.measurements.add(
            run.runner.openLoop(
                scenario + "-half",
                "keyrotor",
                half,
                round,
                scenario.equals("decrypt") ? decryptOp : gdkOp));
      }
    }
    return material;
  }

  /**
   * keyrotor's {@code op} against an echo of the same request and reply sizes, at {@link #LOAD}.
   */
  private static void againstEcho(
      BenchRun run, String scenario, Operation op, int requestBytes, int replyBytes)
      throws InterruptedException {
    run.closedAb(
        List.of(
            new Arm(scenario, run.echo.name(), run.echo.echo(requestBytes, replyBytes)),
            new Arm(scenario, "keyrotor", op)),
        LOAD,
        run.rounds);
  }
}
