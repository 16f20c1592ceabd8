package io.keyrotor.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;

/**
 * A keyrotor cluster, called over mutual TLS as its development administrator ({@code DIR/tls/
 * admin.pem}, trusting {@code DIR/tls/ca.pem}: what {@code scripts/cluster up} writes); calls go to
 * its leader unless a scenario asks for a given node.
 */
final class KeyrotorTarget extends ClusterTarget {
  final String name;
  final List<String> servers;
  final String runId = UUID.randomUUID().toString().substring(0, 8);
  private volatile String leaderId;
  private volatile Map<String, String> addressesById = Map.of();
  private final AtomicLong batches = new AtomicLong();

  /** Keys this run created on the cluster (the state every periodic server task walks). */
  final AtomicLong createdKeys = new AtomicLong();

  /**
   * @param clusterDirectory the cluster's directory ({@code scripts/cluster up --dir}), whose
   *     {@code tls} holds the caller certificate and the CA
   */
  KeyrotorTarget(String name, List<String> servers, Path clusterDirectory) {
    super(Targets.mutualTls(clusterDirectory.resolve("tls")));
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
            leaderIs(leader.getApiAddress());
            leaderId = leader.getId();
            return;
          }
        } catch (RuntimeException e) {
          last = e;
        }
      }
      Targets.sleep(100);
    }
    throw new IllegalStateException(
        name + ": no leader at " + servers + " within " + timeoutMillis + " ms", last);
  }

  String leaderId() {
    return leaderId;
  }

  /**
   * Follows a NOT_LEADER answer (UNAVAILABLE with the leader's address in metadata "leader") to the
   * leader it names; other failures change nothing.
   */
  void noteFailure(Throwable t) {
    String leader =
        CallOutcomes.errorInfo(t).map(info -> info.getMetadataMap().get("leader")).orElse(null);
    if (leader != null && !leader.isEmpty() && !leader.equals(leaderAddress())) {
      leaderIs(leader);
      addressesById.forEach(
          (id, address) -> {
            if (address.equals(leader)) {
              leaderId = id;
            }
          });
    }
  }

  /** Node id -> API address, as the cluster reported it. */
  Map<String, String> addressesById() {
    return addressesById;
  }

  KeyServiceGrpc.KeyServiceFutureStub keys() {
    return KeyServiceGrpc.newFutureStub(channel(leaderAddress()));
  }

  KeyServiceGrpc.KeyServiceFutureStub keys(String address) {
    return KeyServiceGrpc.newFutureStub(channel(address));
  }

  KeyServiceGrpc.KeyServiceBlockingStub blocking(String address) {
    return KeyServiceGrpc.newBlockingStub(channel(address)).withDeadlineAfter(30, TimeUnit.SECONDS);
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
    bulk(
        count,
        (keys, i) ->
            keys.createKey(
                CreateKeyRequest.newBuilder()
                    .setName(names.get(i))
                    .setZone(zone)
                    .setRequestId(requestPrefix + "-" + i)
                    .build()),
        progress,
        "creating " + prefix + " keys");
    createdKeys.addAndGet(count);
    return names;
  }

  /** {@code count} data keys wrapped under {@code keys} (round robin), without plaintext. */
  List<ByteString> wrappedDataKeys(
      List<String> keyNames, Map<String, String> context, int count, ProgressLine progress)
      throws InterruptedException {
    List<GenerateDataKeyResponse> responses =
        bulk(
            count,
            (keys, i) ->
                keys.generateDataKeyWithoutPlaintext(
                    GenerateDataKeyRequest.newBuilder()
                        .setKeyName(keyNames.get(i % keyNames.size()))
                        .putAllContext(context)
                        .build()),
            progress,
            "generating data keys");
    List<ByteString> out = new ArrayList<>(count);
    responses.forEach(r -> out.add(r.getWrappedDataKey()));
    return out;
  }

  /**
   * Set-up calls {@code call(stub, i)} for i in [0, count) through {@link Bulk}, 64 in flight at
   * the leader with 10 s each, following NOT_LEADER answers.
   */
  private <T> List<T> bulk(
      int count,
      BiFunction<KeyServiceGrpc.KeyServiceFutureStub, Integer, ListenableFuture<T>> call,
      ProgressLine progress,
      String what)
      throws InterruptedException {
    return Bulk.run(
        count,
        64,
        i -> call.apply(keys().withDeadlineAfter(10, TimeUnit.SECONDS), i),
        progress,
        name + ": " + what,
        this::noteFailure);
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
}
