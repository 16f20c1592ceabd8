package io.keyrotor.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.BatchReEncryptResponse;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetClusterStatusRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.bench.echo.EchoMessage;
import io.keyrotor.bench.echo.EchoServiceGrpc;
import io.keyrotor.bench.etcd.KVGrpc;
import io.keyrotor.bench.etcd.MaintenanceGrpc;
import io.keyrotor.bench.etcd.PutRequest;
import io.keyrotor.bench.etcd.RangeRequest;
import io.keyrotor.bench.etcd.StatusRequest;
import io.keyrotor.bench.etcd.StatusResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The systems the benchmark drives, each through async grpc-java stubs: keyrotor through its public
 * API stubs (the ones the SDK uses), etcd through a minimal copy of its v3 KV proto, and the echo
 * baseline. Every target gets the same client stack: one Netty channel per server, plaintext, the
 * direct executor (callbacks on the transport threads, which only record and start the next call).
 */
final class Targets {
  private Targets() {}

  static ManagedChannel channel(String address) {
    return NettyChannelBuilder.forTarget(address)
        .usePlaintext()
        .directExecutor()
        .maxInboundMessageSize(64 << 20)
        .build();
  }

  /** Bytes of a length-delimited field with a one-byte tag and {@code length} bytes of content. */
  static int fieldSize(int length) {
    return 1 + CodedOutputStream.computeUInt32SizeNoTag(length) + length;
  }

  /** A keyrotor cluster; calls go to its leader unless a scenario asks for a given node. */
  static final class Keyrotor implements AutoCloseable {
    final String name;
    final List<String> servers;
    final String runId = UUID.randomUUID().toString().substring(0, 8);
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private volatile String leaderAddress;
    private volatile String leaderId;
    private volatile Map<String, String> addressesById = Map.of();
    private final AtomicLong batches = new AtomicLong();

    /** Keys this run created on the cluster (the state every periodic server task walks). */
    final AtomicLong createdKeys = new AtomicLong();

    Keyrotor(String name, List<String> servers) {
      this.name = name;
      this.servers = List.copyOf(servers);
      refreshLeader(30_000);
    }

    /** Asks the cluster who leads (waiting up to {@code timeoutMillis} for a leader). */
    void refreshLeader(long timeoutMillis) {
      long deadline = System.currentTimeMillis() + timeoutMillis;
      RuntimeException last = null;
      while (System.currentTimeMillis() < deadline) {
        for (String server : servers) {
          try {
            ClusterStatus status =
                AdminServiceGrpc.newBlockingStub(channel(server))
                    .withDeadlineAfter(2, TimeUnit.SECONDS)
                    .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
            Map<String, String> ids = new LinkedHashMap<>();
            NodeStatus leader = null;
            for (NodeStatus node : status.getNodesList()) {
              ids.put(node.getId(), node.getApiAddress());
              if (node.getRole() == NodeRole.NODE_ROLE_LEADER) {
                leader = node;
              }
            }
            if (leader != null) {
              addressesById = ids;
              leaderAddress = leader.getApiAddress();
              leaderId = leader.getId();
              return;
            }
          } catch (RuntimeException e) {
            last = e;
          }
        }
        sleep(100);
      }
      throw new IllegalStateException(
          name + ": no leader at " + servers + " within " + timeoutMillis + " ms", last);
    }

    String leaderId() {
      return leaderId;
    }

    /**
     * Follows a NOT_LEADER answer (UNAVAILABLE with the leader's address in metadata "leader") to
     * the leader it names; other failures change nothing.
     */
    void noteFailure(Throwable t) {
      String leader =
          CallOutcomes.errorInfo(t).map(info -> info.getMetadataMap().get("leader")).orElse(null);
      if (leader != null && !leader.isEmpty() && !leader.equals(leaderAddress)) {
        leaderAddress = leader;
        addressesById.forEach(
            (id, address) -> {
              if (address.equals(leader)) {
                leaderId = id;
              }
            });
      }
    }

    String leaderAddress() {
      return leaderAddress;
    }

    /** Node id -> API address, as the cluster reported it. */
    Map<String, String> addressesById() {
      return addressesById;
    }

    ManagedChannel channel(String address) {
      return channels.computeIfAbsent(address, Targets::channel);
    }

    /** Forgets the channel to {@code address} (a restarted node: no reconnect backoff left). */
    void resetChannel(String address) {
      ManagedChannel old = channels.remove(address);
      if (old != null) {
        old.shutdownNow();
      }
    }

    KeyServiceGrpc.KeyServiceFutureStub keys() {
      return KeyServiceGrpc.newFutureStub(channel(leaderAddress));
    }

    KeyServiceGrpc.KeyServiceFutureStub keys(String address) {
      return KeyServiceGrpc.newFutureStub(channel(address));
    }

    KeyServiceGrpc.KeyServiceBlockingStub blocking(String address) {
      return KeyServiceGrpc.newBlockingStub(channel(address))
          .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /**
     * Creates {@code count} keys named {@code bench-<run>-<prefix><n>-<i>} in {@code zone}, 64 at a
     * time (n counts the calls, so a prefix may be used twice).
     */
    List<String> createKeys(String prefix, String zone, int count, ProgressLine progress)
        throws InterruptedException {
      List<String> names = new ArrayList<>(count);
      long batch = batches.incrementAndGet();
      for (int i = 0; i < count; i++) {
        names.add("bench-" + runId + "-" + prefix + batch + "-" + i);
      }
      String requestPrefix = UUID.randomUUID().toString();
      Bulk.run(
          count,
          64,
          i ->
              keys()
                  .withDeadlineAfter(10, TimeUnit.SECONDS)
                  .createKey(
                      CreateKeyRequest.newBuilder()
                          .setName(names.get(i))
                          .setZone(zone)
                          .setRequestId(requestPrefix + "-" + i)
                          .build()),
          progress,
          name + ": creating " + prefix + " keys",
          this::noteFailure);
      createdKeys.addAndGet(count);
      return names;
    }

    /** {@code count} data keys wrapped under {@code keys} (round robin), without plaintext. */
    List<ByteString> wrappedDataKeys(
        List<String> keyNames, Map<String, String> context, int count, ProgressLine progress)
        throws InterruptedException {
      List<GenerateDataKeyResponse> responses =
          Bulk.run(
              count,
              64,
              i ->
                  keys()
                      .withDeadlineAfter(10, TimeUnit.SECONDS)
                      .generateDataKeyWithoutPlaintext(
                          GenerateDataKeyRequest.newBuilder()
                              .setKeyName(keyNames.get(i % keyNames.size()))
                              .putAllContext(context)
                              .build()),
              progress,
              name + ": generating data keys",
              this::noteFailure);
      List<ByteString> out = new ArrayList<>(count);
      responses.forEach(r -> out.add(r.getWrappedDataKey()));
      return out;
    }

    Key getKey(String address, String keyName) {
      return blocking(address).getKey(GetKeyRequest.newBuilder().setName(keyName).build());
    }

    Operation getKey(List<String> names) {
      List<GetKeyRequest> requests =
          names.stream().map(n -> GetKeyRequest.newBuilder().setName(n).build()).toList();
      return sequence -> keys().getKey(requests.get((int) (sequence % requests.size())));
    }

    /** A durable write: CreateKey (one log entry, a KEK generated and wrapped by the HSM). */
    Operation createKey(String label) {
      // Names must stay unique across the warm-up and the measurement, which restart sequences.
      AtomicLong unique = new AtomicLong();
      String prefix = "bench-" + runId + "-" + label + "-";
      return sequence -> {
        ListenableFuture<Key> created =
            keys()
                .createKey(
                    CreateKeyRequest.newBuilder()
                        .setName(prefix + unique.getAndIncrement())
                        .setRequestId(UUID.randomUUID().toString())
                        .build());
        created.addListener(createdKeys::incrementAndGet, Runnable::run);
        return created;
      };
    }

    static CreateKeyRequest sampleCreateKeyRequest(String runId) {
      return CreateKeyRequest.newBuilder()
          .setName("bench-" + runId + "-w64r0-0000000")
          .setRequestId(UUID.randomUUID().toString())
          .build();
    }

    /** A durable write: RotateKey of the keys in turn, each new version primary at once. */
    Operation rotateKey(List<String> names) {
      AtomicLong next = new AtomicLong();
      return sequence -> keys().rotateKey(rotateRequest(names, next.getAndIncrement()));
    }

    static RotateKeyRequest rotateRequest(List<String> names, long index) {
      return RotateKeyRequest.newBuilder()
          .setName(names.get((int) (index % names.size())))
          .setActivationDelay(com.google.protobuf.Duration.getDefaultInstance())
          .setReason(RotationReason.ROTATION_REASON_MANUAL)
          .setRequestId(UUID.randomUUID().toString())
          .build();
    }

    Operation generateDataKey(List<String> keyNames, Map<String, String> context) {
      List<GenerateDataKeyRequest> requests =
          keyNames.stream()
              .map(
                  k ->
                      GenerateDataKeyRequest.newBuilder()
                          .setKeyName(k)
                          .putAllContext(context)
                          .build())
              .toList();
      return sequence -> keys().generateDataKey(requests.get((int) (sequence % requests.size())));
    }

    static List<DecryptRequest> decryptRequests(
        List<ByteString> ciphertexts, Map<String, String> context) {
      return ciphertexts.stream()
          .map(c -> DecryptRequest.newBuilder().setCiphertext(c).putAllContext(context).build())
          .toList();
    }

    Operation decrypt(List<DecryptRequest> requests) {
      return sequence -> keys().decrypt(requests.get((int) (sequence % requests.size())));
    }

    ListenableFuture<BatchReEncryptResponse> batchReEncrypt(
        String address, BatchReEncryptRequest request) {
      return keys(address).withDeadlineAfter(120, TimeUnit.SECONDS).batchReEncrypt(request);
    }

    @Override
    public void close() {
      channels.values().forEach(ManagedChannel::shutdownNow);
    }
  }

  /** A 3-member etcd cluster, driven at its leader through the v3 gRPC KV API. */
  static final class Etcd implements AutoCloseable {
    final List<String> endpoints;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final String runId = UUID.randomUUID().toString().substring(0, 8);
    private volatile String leaderAddress;

    Etcd(List<String> endpoints) {
      this.endpoints = List.copyOf(endpoints);
      refreshLeader(30_000);
    }

    void refreshLeader(long timeoutMillis) {
      long deadline = System.currentTimeMillis() + timeoutMillis;
      while (System.currentTimeMillis() < deadline) {
        String leader = leaderOrNull();
        if (leader != null) {
          leaderAddress = leader;
          return;
        }
        sleep(100);
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

    String leaderAddress() {
      return leaderAddress;
    }

    ManagedChannel channel(String address) {
      return channels.computeIfAbsent(address, Targets::channel);
    }

    void resetChannel(String address) {
      ManagedChannel old = channels.remove(address);
      if (old != null) {
        old.shutdownNow();
      }
    }

    KVGrpc.KVFutureStub kv() {
      return KVGrpc.newFutureStub(channel(leaderAddress));
    }

    KVGrpc.KVFutureStub kv(String address) {
      return KVGrpc.newFutureStub(channel(address));
    }

    List<ByteString> putReadKeys(int count, int valueSize) {
      List<ByteString> keys = new ArrayList<>();
      KVGrpc.KVBlockingStub blocking = KVGrpc.newBlockingStub(channel(leaderAddress));
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

    @Override
    public void close() {
      channels.values().forEach(ManagedChannel::shutdownNow);
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

    /** Echo calls whose request and reply have the given serialized sizes (within a byte). */
    Operation echo(int requestBytes, int replyBytes) {
      EchoMessage message = message(requestBytes, replyBytes);
      return sequence -> stub.echo(message);
    }

    /** The request that makes the echo's request and reply the given serialized sizes. */
    static EchoMessage message(int requestBytes, int replyBytes) {
      int replyPayload = payloadFor(replyBytes, 0);
      int requestPayload = payloadFor(requestBytes, replyPayload);
      return EchoMessage.newBuilder()
          .setPayload(ByteString.copyFrom(new byte[requestPayload]))
          .setReplySize(replyPayload)
          .build();
    }

    /**
     * The payload length n for which a message {payload: n bytes, reply_size: replySize} has about
     * {@code total} bytes (reply_size omitted when 0).
     */
    static int payloadFor(int total, int replySize) {
      int fixed = replySize == 0 ? 0 : 1 + CodedOutputStream.computeUInt32SizeNoTag(replySize);
      for (int n = Math.max(0, total - fixed); n >= 0; n--) {
        if (fieldSize(n) + fixed <= total) {
          return n;
        }
      }
      return 0;
    }

    @Override
    public void close() {
      channel.shutdownNow();
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
