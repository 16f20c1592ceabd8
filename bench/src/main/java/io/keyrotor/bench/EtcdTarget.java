package io.keyrotor.bench;

import com.google.protobuf.ByteString;
import io.keyrotor.bench.etcd.KVGrpc;
import io.keyrotor.bench.etcd.MaintenanceGrpc;
import io.keyrotor.bench.etcd.PutRequest;
import io.keyrotor.bench.etcd.RangeRequest;
import io.keyrotor.bench.etcd.StatusRequest;
import io.keyrotor.bench.etcd.StatusResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A 3-member etcd cluster, driven at its leader through the v3 gRPC KV API, in plaintext (scripts/
 * bench runs etcd without TLS).
 */
final class EtcdTarget extends ClusterTarget {
  final List<String> endpoints;
  private final String runId = UUID.randomUUID().toString().substring(0, 8);

  EtcdTarget(List<String> endpoints) {
    super(Targets.plaintext());
    this.endpoints = List.copyOf(endpoints);
    refreshLeader(30_000);
  }

  void refreshLeader(long timeoutMillis) {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline) {
      String leader = leaderOrNull();
      if (leader != null) {
        leaderIs(leader);
        return;
      }
      Targets.sleep(100);
    }
    throw new IllegalStateException("no etcd member at " + endpoints + " reports being leader");
  }

  /** The endpoint of the member that reports being leader, or null. */
  String leaderOrNull() {
    for (String endpoint : endpoints) {
      try {
        StatusResponse status =
            MaintenanceGrpc.newBlockingStub(channel(endpoint))
                .withDeadlineAfter(2, TimeUnit.SECONDS)
                .status(StatusRequest.getDefaultInstance());
        if (status.getLeader() != 0 && status.getLeader() == status.getHeader().getMemberId()) {
          return endpoint;
        }
      } catch (RuntimeException e) {
        // try the next member
      }
    }
    return null;
  }

  KVGrpc.KVFutureStub kv() {
    return KVGrpc.newFutureStub(channel(leaderAddress()));
  }

  KVGrpc.KVFutureStub kv(String address) {
    return KVGrpc.newFutureStub(channel(address));
  }

  List<ByteString> putReadKeys(int count, int valueSize) {
    List<ByteString> keys = new ArrayList<>();
    KVGrpc.KVBlockingStub blocking = KVGrpc.newBlockingStub(channel(leaderAddress()));
    for (int i = 0; i < count; i++) {
      ByteString key = ByteString.copyFromUtf8("bench-" + runId + "-read-" + i);
      blocking.put(PutRequest.newBuilder().setKey(key).setValue(value(valueSize)).build());
      keys.add(key);
    }
    return keys;
  }

  Operation get(List<ByteString> keys, boolean serializable) {
    List<RangeRequest> requests =
        keys.stream()
            .map(k -> RangeRequest.newBuilder().setKey(k).setSerializable(serializable).build())
            .toList();
    return sequence -> kv().range(requests.get((int) (sequence % requests.size())));
  }

  Operation put(String label, int valueSize) {
    ByteString value = value(valueSize);
    AtomicLong unique = new AtomicLong();
    String prefix = "bench-" + runId + "-" + label + "-";
    return sequence ->
        kv().put(
                PutRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8(prefix + unique.getAndIncrement()))
                    .setValue(value)
                    .build());
  }

  static ByteString value(int size) {
    return ByteString.copyFrom(new byte[size]);
  }
}
