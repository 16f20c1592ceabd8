package io.keyrotor.server;

import static io.keyrotor.server.GrpcErrors.metadata;
import static io.keyrotor.server.GrpcErrors.reason;
import static io.keyrotor.server.KeyRequests.decryption;
import static io.keyrotor.server.KeyRequests.disable;
import static io.keyrotor.server.KeyRequests.enable;
import static io.keyrotor.server.KeyRequests.rotation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchDecryptResponse;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.BatchReEncryptResponse;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.EncryptionContext;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.consensus.testing.Replicas;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The data plane over real gRPC on a real 3-node cluster (regions eu and us: n1 and n3 hold zones
 * default and eu, n2 holds default and us), with followers serving reads through ReadIndex ({@code
 * reads.follower=read-index}).
 */
class DataPlaneIT extends ClusterTestBase {
  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme", "table", "cards");

  DataPlaneIT() {
    super(List.of("eu", "us"), FOLLOWERS_READ_INDEX);
  }

  private String createKey(String zone) {
    String name = unique("dp");
    cluster.createKey(name, zone);
    return name;
  }

  private EncryptResponse encrypt(String node, String key, String plaintext) {
    return cluster
        .keys(node)
        .encrypt(
            EncryptRequest.newBuilder()
                .setKeyName(key)
                .setPlaintext(ByteString.copyFromUtf8(plaintext))
                .putAllContext(CONTEXT)
                .build());
  }

  private DecryptResponse decrypt(String node, ByteString ciphertext) {
    return cluster
        .keys(node)
        .decrypt(
            DecryptRequest.newBuilder().setCiphertext(ciphertext).putAllContext(CONTEXT).build());
  }

  private static StatusRuntimeException expect(Status.Code code, String reason, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getMessage());
    assertEquals(reason, reason(e), e.getMessage());
    return e;
  }

  @Test
  void generateDataKey_decryptsOnEveryOtherNode() {
    String key = createKey("default");
    for (String generator : cluster.nodes.keySet()) {
      GenerateDataKeyResponse dataKey =
          cluster
              .keys(generator)
              .generateDataKey(
                  GenerateDataKeyRequest.newBuilder()
                      .setKeyName(key)
                      .putAllContext(CONTEXT)
                      .build());
      assertEquals(32, dataKey.getPlaintext().size());
      for (String other : cluster.nodes.keySet()) {
        if (!other.equals(generator)) {
          assertEquals(
              dataKey.getPlaintext(),
              decrypt(other, dataKey.getWrappedDataKey()).getPlaintext(),
              "generated on " + generator + ", decrypted on " + other);
        }
      }
    }
    GenerateDataKeyResponse wrappedOnly =
        cluster
            .keys(cluster.followerIds().get(0))
            .generateDataKeyWithoutPlaintext(
                GenerateDataKeyRequest.newBuilder().setKeyName(key).putAllContext(CONTEXT).build());
    assertTrue(wrappedOnly.getPlaintext().isEmpty());
    assertEquals(
        32, decrypt(cluster.leaderId(), wrappedOnly.getWrappedDataKey()).getPlaintext().size());
  }

  @Test
  void encryptReEncryptBatch_roundTripsAcrossNodes() {
    String key = createKey("default");
    String target = createKey("default");
    List<String> nodes = new ArrayList<>(cluster.nodes.keySet());
    List<ByteString> ciphertexts = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ciphertexts.add(encrypt(nodes.get(i % 3), key, "item " + i).getCiphertext());
    }

    ReEncryptResponse moved =
        cluster
            .keys(nodes.get(1))
            .reEncrypt(
                ReEncryptRequest.newBuilder()
                    .setCiphertext(ciphertexts.get(0))
                    .putAllContext(CONTEXT)
                    .setDestinationKeyName(target)
                    .setDestinationContext(EncryptionContext.newBuilder().putPairs("moved", "yes"))
                    .build());
    assertEquals(target, moved.getKeyName());
    assertEquals(
        "item 0",
        cluster
            .keys(nodes.get(2))
            .decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertext(moved.getCiphertext())
                    .putContext("moved", "yes")
                    .build())
            .getPlaintext()
            .toStringUtf8());

    BatchDecryptRequest.Builder batch = BatchDecryptRequest.newBuilder();
    ciphertexts.forEach(
        c -> batch.addItems(DecryptRequest.newBuilder().setCiphertext(c).putAllContext(CONTEXT)));
    batch.addItems(DecryptRequest.newBuilder().setCiphertext(ciphertexts.get(0)));
    BatchDecryptResponse decrypted = cluster.keys(nodes.get(2)).batchDecrypt(batch.build());
    assertEquals(7, decrypted.getItemsCount());
    for (int i = 0; i < 6; i++) {
      assertEquals(Code.OK_VALUE, decrypted.getItems(i).getStatus().getCode());
      assertEquals("item " + i, decrypted.getItems(i).getResult().getPlaintext().toStringUtf8());
    }
    assertEquals(Code.INVALID_ARGUMENT_VALUE, decrypted.getItems(6).getStatus().getCode());
    assertEquals("INVALID_CIPHERTEXT", decrypted.getItems(6).getStatus().getReason());
    assertFalse(decrypted.getItems(6).hasResult());

    BatchReEncryptRequest.Builder rewrap = BatchReEncryptRequest.newBuilder();
    ciphertexts.forEach(
        c ->
            rewrap.addItems(ReEncryptRequest.newBuilder().setCiphertext(c).putAllContext(CONTEXT)));
    BatchReEncryptResponse rewrapped = cluster.keys(nodes.get(0)).batchReEncrypt(rewrap.build());
    for (int i = 0; i < 6; i++) {
      assertEquals(Code.OK_VALUE, rewrapped.getItems(i).getStatus().getCode());
      assertEquals(
          "item " + i,
          decrypt(nodes.get((i + 1) % 3), rewrapped.getItems(i).getResult().getCiphertext())
              .getPlaintext()
              .toStringUtf8());
    }
  }

  @Test
  void dualKeyAcceptance_dataUnderV1DecryptsAfterV2IsPrimary() {
    String key = createKey("default");
    String leader = cluster.leaderId();
    EncryptResponse underV1 = encrypt(leader, key, "written under v1");

    cluster.keys(cluster.followerIds().get(0)).rotateKey(rotation(key));

    for (String node : cluster.nodes.keySet()) {
      EncryptResponse underV2 = encrypt(node, key, "written under v2");
      assertEquals(2, underV2.getKeyVersion(), "the rotation is visible at once on " + node);
      assertEquals(
          "written under v1", decrypt(node, underV1.getCiphertext()).getPlaintext().toStringUtf8());
      assertEquals(1, decrypt(node, underV1.getCiphertext()).getKeyVersion());
      ReEncryptResponse rewrapped =
          cluster
              .keys(node)
              .reEncrypt(
                  ReEncryptRequest.newBuilder()
                      .setCiphertext(underV1.getCiphertext())
                      .putAllContext(CONTEXT)
                      .build());
      assertEquals(1, rewrapped.getSourceKeyVersion());
      assertEquals(2, rewrapped.getKeyVersion());
    }
  }

  @Test
  void disable_onceItReturnedNoCallOnAnyNodeUsesTheVersion() {
    String key = createKey("default");
    String leader = cluster.leaderId();
    ByteString underV1 = encrypt(leader, key, "v1 data").getCiphertext();
    cluster.keys(leader).rotateKey(rotation(key));

    // Disable through each node in turn (followers forward it), re-enabling in between; every
    // node warms its cache with v1 first, so a stale cache entry would show.
    for (String via : cluster.nodes.keySet()) {
      for (String node : cluster.nodes.keySet()) {
        assertEquals("v1 data", decrypt(node, underV1).getPlaintext().toStringUtf8());
      }
      cluster.keys(via).disableKeyVersion(disable(key, 1));
      for (String node : cluster.nodes.keySet()) {
        StatusRuntimeException refused =
            expect(
                Status.Code.FAILED_PRECONDITION, "VERSION_DISABLED", () -> decrypt(node, underV1));
        assertEquals("1", metadata(refused).get("version"));
        assertFalse(refused.getMessage().contains("v1 data"));
      }
      cluster.keys(via).enableKeyVersion(enable(key, 1));
    }
  }

  /** One decrypt a hammering thread made: when it started and ended, and how it ended. */
  private record Call(String node, long startNanos, long endNanos, String outcome) {}

  @Test
  void disable_concurrentCallsOnEveryNode_noneThatStartsAfterTheReturnSucceeds() throws Exception {
    String key = createKey("default");
    String leader = cluster.leaderId();
    ByteString underV1 = encrypt(leader, key, "hammered").getCiphertext();
    cluster.keys(leader).rotateKey(rotation(key));

    ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    for (String node : cluster.nodes.keySet()) {
      Thread thread =
          new Thread(
              () -> {
                while (!stop.get()) {
                  long start = System.nanoTime();
                  String outcome;
                  try {
                    decrypt(node, underV1);
                    outcome = "OK";
                  } catch (StatusRuntimeException e) {
                    outcome = e.getStatus().getCode() + "/" + reason(e);
                  }
                  calls.add(new Call(node, start, System.nanoTime(), outcome));
                }
              },
              "decrypt-" + node);
      thread.start();
      threads.add(thread);
    }
    try {
      Replicas.waitUntil(
          () ->
              cluster.nodes.keySet().stream()
                  .allMatch(node -> startedAfter(calls, node, Long.MIN_VALUE) >= 10),
          Duration.ofSeconds(60),
          "10 calls on every node before the disable");
      long disableStarted = System.nanoTime();
      cluster.keys(cluster.followerIds().get(0)).disableKeyVersion(disable(key, 1));
      long disableReturned = System.nanoTime();
      Replicas.waitUntil(
          () ->
              cluster.nodes.keySet().stream()
                  .allMatch(node -> startedAfter(calls, node, disableReturned) >= 20),
          Duration.ofSeconds(60),
          "20 calls on every node after the disable");
      stop.set(true);
      for (Thread thread : threads) {
        thread.join();
      }

      Map<String, Integer> after = new TreeMap<>();
      for (Call call : calls) {
        if (call.endNanos() < disableStarted) {
          assertEquals("OK", call.outcome(), "before the disable: " + call);
        }
        if (call.startNanos() > disableReturned) {
          assertEquals(
              "FAILED_PRECONDITION/VERSION_DISABLED", call.outcome(), "after the disable: " + call);
          after.merge(call.node(), 1, Integer::sum);
        }
      }
      assertEquals(cluster.nodes.keySet(), after.keySet(), "every node was called afterwards");
    } finally {
      stop.set(true);
      for (Thread thread : threads) {
        thread.join();
      }
    }
  }

  private static long startedAfter(ConcurrentLinkedQueue<Call> calls, String node, long after) {
    return calls.stream().filter(c -> c.node().equals(node) && c.startNanos() > after).count();
  }

  @Test
  void zoneResidency_nodesWithoutTheZoneReferToTheHolders() {
    String usKey = createKey("us"); // only n2 holds zone us
    ByteString sealed = encrypt("n2", usKey, "stays in us").getCiphertext();

    for (String outsider : List.of("n1", "n3")) {
      StatusRuntimeException refused =
          expect(Status.Code.FAILED_PRECONDITION, "ZONE_NOT_HELD", () -> decrypt(outsider, sealed));
      assertTrue(refused.getStatus().getDescription().contains("n2"), refused.getMessage());
      assertEquals(cluster.apiAddress("n2"), metadata(refused).get("nodes"));
      expect(Status.Code.FAILED_PRECONDITION, "ZONE_NOT_HELD", () -> encrypt(outsider, usKey, "x"));
    }
    assertEquals("stays in us", decrypt("n2", sealed).getPlaintext().toStringUtf8());

    String euKey = createKey("eu");
    ByteString eu = encrypt("n3", euKey, "eu data").getCiphertext();
    assertEquals("eu data", decrypt("n1", eu).getPlaintext().toStringUtf8());
    expect(Status.Code.FAILED_PRECONDITION, "ZONE_NOT_HELD", () -> decrypt("n2", eu));
  }

  @Test
  void badInput_clearStatusesAndNoLogEntries() {
    String key = createKey("default");
    String node = cluster.followerIds().get(1);
    ByteString good = encrypt(node, key, "fine").getCiphertext();
    cluster.awaitConvergence();
    long before = appliedIndex(node);

    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_CIPHERTEXT",
        () -> decrypt(node, ByteString.copyFromUtf8("not a ciphertext")));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_CIPHERTEXT",
        () -> decrypt(node, good.substring(0, good.size() - 1)));
    byte[] tampered = good.toByteArray();
    tampered[tampered.length - 1] ^= 1;
    StatusRuntimeException tamperedRefusal =
        expect(
            Status.Code.INVALID_ARGUMENT,
            "INVALID_CIPHERTEXT",
            () -> decrypt(node, ByteString.copyFrom(tampered)));
    assertEquals("AUTHENTICATION_FAILED", metadata(tamperedRefusal).get("problem"));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "INVALID_CIPHERTEXT",
        () ->
            cluster
                .keys(node)
                .decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertext(good)
                        .putContext("tenant", "someone else")
                        .build()));
    StatusRuntimeException tooLarge =
        expect(
            Status.Code.INVALID_ARGUMENT,
            "PAYLOAD_TOO_LARGE",
            () ->
                cluster
                    .keys(node)
                    .encrypt(
                        EncryptRequest.newBuilder()
                            .setKeyName(key)
                            .setPlaintext(ByteString.copyFrom(new byte[64 * 1024 + 1]))
                            .build()));
    assertTrue(tooLarge.getStatus().getDescription().contains("GenerateDataKey"));
    expect(Status.Code.NOT_FOUND, "KEY_NOT_FOUND", () -> encrypt(node, "no-such-key", "x"));
    expect(Status.Code.INVALID_ARGUMENT, "INVALID_KEY_NAME", () -> encrypt(node, "bad name", "x"));
    BatchDecryptRequest.Builder huge = BatchDecryptRequest.newBuilder();
    DecryptRequest tiny = decryption(ByteString.copyFromUtf8("x"));
    for (int i = 0; i <= 10_000; i++) {
      huge.addItems(tiny);
    }
    expect(
        Status.Code.INVALID_ARGUMENT,
        "BATCH_TOO_LARGE",
        () -> cluster.keys(node).batchDecrypt(huge.build()));
    for (int i = 0; i < 20; i++) {
      assertEquals("fine", decrypt(node, good).getPlaintext().toStringUtf8());
      cluster
          .keys(node)
          .generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName(key).build());
    }

    cluster.awaitConvergence();
    // The only log entries meanwhile are the blocks of encryptions the nodes reserve ahead of use
    // (and other background bookkeeping): no data-plane call proposes anything itself.
    List<String> actions =
        cluster.nodes.get(node).raft().state().audit(before + 1, 1_000).stream()
            .map(io.keyrotor.proto.internal.v1.AuditRecord::getAction)
            .filter(a -> !a.equals("RESERVE_ENCRYPTIONS") && !a.equals("RECORD_ACTIVATION"))
            .toList();
    assertEquals(List.of(), actions, "data-plane calls take no log entry");
  }

  private long appliedIndex(String node) {
    return cluster
        .admin(node)
        .getNodeStatus(GetNodeStatusRequest.getDefaultInstance())
        .getAppliedIndex();
  }
}
