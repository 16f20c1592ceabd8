package io.keyrotor.bench;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.GetKeyRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Linearizable key metadata reads ({@code GetKey}) at 16 in flight: keyrotor on its leader with the
 * leader lease, the same on a cluster with the lease off (ReadIndex: a heartbeat round per read
 * batch), etcd's linearizable and serializable gets of a value of the same size, and the echo of
 * the same request and reply sizes. Full runs add the curve at 1, 64 and 256 in flight.
 */
final class ReadScenario {
  static final String NAME = "read";
  static final int LOAD = 16;

  private ReadScenario() {}

  static void run(BenchRun run) throws InterruptedException {
    List<String> keys = run.keyrotor.createKeys("read", "default", 100, run.progress);
    String sample = keys.get(0);
    int replySize = run.keyrotor.getKey(run.keyrotor.leaderAddress(), sample).getSerializedSize();
    int requestSize = GetKeyRequest.newBuilder().setName(sample).build().getSerializedSize();
    List<Arm> arms = new ArrayList<>();
    arms.add(new Arm(NAME, run.echo.name(), run.echo.echo(requestSize, replySize)));
    arms.add(new Arm(NAME, "keyrotor-lease", run.keyrotor.getKey(keys)));
    if (run.keyrotorNoLease != null) {
      List<String> other = run.keyrotorNoLease.createKeys("read", "default", 100, run.progress);
      arms.add(new Arm(NAME, "keyrotor-readindex", run.keyrotorNoLease.getKey(other)));
    }
    if (run.etcd != null) {
      List<ByteString> etcdKeys = run.etcd.putReadKeys(100, replySize);
      arms.add(new Arm(NAME, "etcd-linearizable", run.etcd.get(etcdKeys, false)));
      arms.add(new Arm(NAME, "etcd-serializable", run.etcd.get(etcdKeys, true)));
    }
    run.notes.add(
        String.format(
            "read: GetKey request %d B, reply %d B; etcd values of %d B; echo of the same sizes",
            requestSize, replySize, replySize));
    run.closedAb(arms, LOAD, run.rounds);
    if (!run.quick) {
      for (int load : List.of(1, 64, 256)) {
        run.closedAb(arms, load, 1);
      }
    }
  }
}
