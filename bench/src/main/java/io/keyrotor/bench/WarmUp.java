package io.keyrotor.bench;

import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Before anything is measured: every server (and this client) runs each kind of call for a few
 * seconds, so the JIT compilers have done their first work everywhere and no arm pays for it.
 * Nothing is recorded.
 */
final class WarmUp {
  private WarmUp() {}

  static void run(BenchRun run) throws InterruptedException {
    Duration each = run.seconds(1, 5);
    List<Arm> arms = new ArrayList<>();
    arms.add(new Arm("warm-up", run.echo.name(), run.echo.echo(100, 100)));
    for (KeyrotorTarget cluster : run.clusters()) {
      List<String> keys = cluster.createKeys("warm", "default", 4, run.progress);
      arms.add(new Arm("warm-up", cluster.name, cluster.getKey(keys)));
      arms.add(new Arm("warm-up", cluster.name, cluster.generateDataKey(keys, BenchRun.CONTEXT)));
      arms.add(new Arm("warm-up", cluster.name, cluster.createKey("warm")));
      List<ByteString> wrapped = cluster.wrappedDataKeys(keys, BenchRun.CONTEXT, 64, run.progress);
      arms.add(
          new Arm(
              "warm-up",
              cluster.name,
              cluster.decrypt(KeyrotorTarget.decryptRequests(wrapped, BenchRun.CONTEXT))));
    }
    if (run.etcd != null) {
      List<ByteString> keys = run.etcd.putReadKeys(4, 100);
      arms.add(new Arm("warm-up", "etcd", run.etcd.get(keys, false)));
      arms.add(new Arm("warm-up", "etcd", run.etcd.put("warm", 100)));
    }
    for (Arm arm : arms) {
      run.runner.closedLoop(arm.scenario(), arm.target(), 16, 0, arm.op(), Duration.ZERO, each);
    }
  }
}
