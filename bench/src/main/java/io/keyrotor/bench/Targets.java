package io.keyrotor.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.bench.echo.EchoMessage;
import io.keyrotor.bench.echo.EchoServiceGrpc;
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

/** The systems the benchmark drives, each through async grpc-java stubs on one channel. */
final class Targets {
  private Targets() {}

  static ManagedChannel channel(String address) {
    return ManagedChannelBuilder.forTarget(address).usePlaintext().build();
  }

  /** keyrotor, driven at its leader (a follower would forward writes and ReadIndex reads). */
  static final class Keyrotor implements AutoCloseable {
    final String leaderAddress;
    final String leaderId;
    private final ManagedChannel channel;
    private final KeyServiceGrpc.KeyServiceFutureStub keys;
    private final String runId = UUID.randomUUID().toString().substring(0, 8);

    Keyrotor(List<String> servers) {
      ClusterStatus status = null;
      RuntimeException last = null;
      for (String server : servers) {
        ManagedChannel probe = channel(server);
        try {
          status =
              AdminServiceGrpc.newBlockingStub(probe)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
          break;
        } catch (RuntimeException e) {
          last = e;
        } finally {
          probe.shutdownNow();
        }
      }
      if (status == null) {
        throw new IllegalStateException("no keyrotor server answered at " + servers, last);
      }
      NodeStatus leader =
          status.getNodesList().stream()
              .filter(n -> n.getRole() == NodeRole.NODE_ROLE_LEADER)
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("the keyrotor cluster has no leader"));
      this.leaderAddress = leader.getApiAddress();
      this.leaderId = leader.getId();
      this.channel = channel(leaderAddress);
      this.keys = KeyServiceGrpc.newFutureStub(channel);
    }

    /** Creates {@code count} keys to read and returns their names. */
    List<String> createReadKeys(int count) {
      List<String> names = new ArrayList<>();
      KeyServiceGrpc.KeyServiceBlockingStub blocking = KeyServiceGrpc.newBlockingStub(channel);
      for (int i = 0; i < count; i++) {
        String name = "bench-" + runId + "-read-" + i;
        blocking.createKey(CreateKeyRequest.newBuilder().setName(name).build());
        names.add(name);
      }
      return names;
    }

    /** The serialized size of a GetKey response, to give etcd values of the same size. */
    int getKeyResponseSize(String name) {
      Key key =
          KeyServiceGrpc.newBlockingStub(channel)
              .getKey(GetKeyRequest.newBuilder().setName(name).build());
      return key.getSerializedSize();
    }

    int createKeyRequestSize() {
      return CreateKeyRequest.newBuilder()
          .setName("bench-" + runId + "-write-0000000")
          .setRequestId(UUID.randomUUID().toString())
          .build()
          .getSerializedSize();
    }

    Operation getKey(List<String> names) {
      List<GetKeyRequest> requests =
          names.stream().map(n -> GetKeyRequest.newBuilder().setName(n).build()).toList();
      return sequence -> keys.getKey(requests.get((int) (sequence % requests.size())));
    }

    /** A durable write: CreateKey (one log entry, a KEK generated and wrapped by the HSM). */
    Operation createKey(String label) {
      // Names must stay unique across the warm-up and the measurement, which restart sequences.
      java.util.concurrent.atomic.AtomicLong unique = new java.util.concurrent.atomic.AtomicLong();
      return sequence ->
          keys.createKey(
              CreateKeyRequest.newBuilder()
                  .setName("bench-" + runId + "-" + label + "-" + unique.getAndIncrement())
                  .setRequestId(UUID.randomUUID().toString())
                  .build());
    }

    @Override
    public void close() {
      channel.shutdownNow();
    }
  }

  /** A 3-member etcd cluster, driven at its leader through the v3 gRPC KV API. */
  static final class Etcd implements AutoCloseable {
    final String leaderAddress;
    private final ManagedChannel channel;
    private final KVGrpc.KVFutureStub kv;
    private final String runId = UUID.randomUUID().toString().substring(0, 8);

    Etcd(List<String> endpoints) {
      String leader = null;
      for (String endpoint : endpoints) {
        ManagedChannel probe = channel(endpoint);
        try {
          StatusResponse status =
              MaintenanceGrpc.newBlockingStub(probe)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .status(StatusRequest.getDefaultInstance());
          if (status.getLeader() == status.getHeader().getMemberId()) {
            leader = endpoint;
            break;
          }
        } catch (RuntimeException e) {
          // try the next member
        } finally {
          probe.shutdownNow();
        }
      }
      if (leader == null) {
        throw new IllegalStateException("no etcd member at " + endpoints + " reports being leader");
      }
      this.leaderAddress = leader;
      this.channel = channel(leader);
      this.kv = KVGrpc.newFutureStub(channel);
    }

    List<ByteString> putReadKeys(int count, int valueSize) {
      List<ByteString> keys = new ArrayList<>();
      KVGrpc.KVBlockingStub blocking = KVGrpc.newBlockingStub(channel);
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
      return sequence -> kv.range(requests.get((int) (sequence % requests.size())));
    }

    Operation put(String label, int valueSize) {
      ByteString value = value(valueSize);
      return sequence ->
          kv.put(
              PutRequest.newBuilder()
                  .setKey(ByteString.copyFromUtf8("bench-" + runId + "-" + label + "-" + sequence))
                  .setValue(value)
                  .build());
    }

    private static ByteString value(int size) {
      return ByteString.copyFrom(new byte[size]);
    }

    @Override
    public void close() {
      channel.shutdownNow();
    }
  }

  /** The bare gRPC echo baseline. */
  static final class Echo implements AutoCloseable {
    private final ManagedChannel channel;
    private final EchoServiceGrpc.EchoServiceFutureStub stub;

    Echo(String address) {
      this.channel = channel(address);
      this.stub = EchoServiceGrpc.newFutureStub(channel);
    }

    Operation echo(int requestSize) {
      EchoMessage message =
          EchoMessage.newBuilder().setPayload(ByteString.copyFrom(new byte[requestSize])).build();
      return sequence -> (ListenableFuture<?>) stub.echo(message);
    }

    @Override
    public void close() {
      channel.shutdownNow();
    }
  }
}
