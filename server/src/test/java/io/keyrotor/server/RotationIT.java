package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.decryption;
import static io.keyrotor.server.KeyRequests.disable;
import static io.keyrotor.server.KeyRequests.encryption;
import static io.keyrotor.server.KeyRequests.key;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.rotation;
import static io.keyrotor.server.KeyRequests.seconds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.ListKeyEventsRequest;
import io.keyrotor.api.v1.ListRotationsRequest;
import io.keyrotor.api.v1.RollbackRotationRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.RotationStatus;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.consensus.testing.Replicas;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The rotation engine on a real 3-node cluster: scheduled, usage, dependency and bulk rotations,
 * validation gates with a misprovisioned node, rollback, destroy, events. Periods are seconds (the
 * local cluster's minimum is 1 s); every wait is for a condition, bounded.
 */
class RotationIT extends ClusterTestBase {
  RotationIT() {
    super(List.of("local"), Map.of());
  }

  private KeyServiceGrpc.KeyServiceBlockingStub keys() {
    return cluster.keys(cluster.leaderId());
  }

  private Key get(String node, String name) {
    return cluster.keys(node).getKey(key(name));
  }

  private EncryptResponse encrypt(String name, String plaintext) {
    return keys().encrypt(encryption(name, plaintext));
  }

  private static SetKeyDependentsRequest dependents(String name, String dependent) {
    return SetKeyDependentsRequest.newBuilder().setName(name).addDependents(dependent).build();
  }

  private Key awaitKey(String name, Predicate<Key> condition, long seconds, String what) {
    Key[] last = new Key[1];
    Replicas.waitUntil(
        () -> {
          last[0] = get(cluster.leaderId(), name);
          return condition.test(last[0]);
        },
        java.time.Duration.ofSeconds(seconds),
        what + " (last seen: " + name + ")");
    return last[0];
  }

  @Test
  void scheduledRotation_oncePerPeriodAcrossALeaderChange_sameTimestampsOnEveryNode()
      throws Exception {
    String name = unique("scheduled");
    keys().createKey(newKey(name, RotationPolicy.newBuilder().setRotationPeriod(seconds(2))));
    awaitKey(name, k -> k.getVersionsCount() >= 3, 30, "two scheduled rotations");

    String oldLeader = cluster.leaderId();
    cluster.stop(oldLeader);
    int before = get(cluster.leaderId(), name).getVersionsCount();
    awaitKey(name, k -> k.getVersionsCount() >= before + 2, 30, "rotations under the new leader");
    cluster.start(oldLeader);
    cluster.awaitConvergence();

    Key key = get(cluster.leaderId(), name);
    List<KeyVersion> versions = key.getVersionsList();
    for (int i = 1; i < versions.size(); i++) {
      KeyVersion previous = versions.get(i - 1);
      KeyVersion next = versions.get(i);
      assertEquals(RotationReason.ROTATION_REASON_SCHEDULED, next.getRotationReason());
      // At most one rotation per slot: the next is created only once the previous one's period ran.
      assertTrue(
          next.getCreateTime().getSeconds() * 1000 + next.getCreateTime().getNanos() / 1_000_000
              >= previous.getActivationTime().getSeconds() * 1000
                  + previous.getActivationTime().getNanos() / 1_000_000
                  + 2_000,
          "version " + next.getVersion() + " rotated before its slot: " + versions);
    }
    for (String node : cluster.nodes.keySet()) {
      Key seen = get(node, name);
      for (int i = 0; i < versions.size(); i++) {
        assertEquals(
            versions.get(i).getActivationTime(),
            seen.getVersions(i).getActivationTime(),
            "activation of v" + (i + 1) + " on " + node);
      }
    }
  }

  @Test
  void gatedRotation_everyNodeAcknowledges_thenActivatesOnTime() {
    String name = unique("gated");
    keys().createKey(newKey(name));

    RotateKeyResponse rotated = keys().rotateKey(rotation(name, 3));

    assertEquals(
        List.of("n1", "n2", "n3"), rotated.getKey().getVersions(1).getRequiredAcknowledgersList());
    Key active =
        awaitKey(name, k -> k.getPrimaryVersion() == 2, 20, "the validated version to activate");
    assertEquals(List.of("n1", "n2", "n3"), active.getVersions(1).getAcknowledgedByList());
    long activatedAt = active.getVersions(1).getActivationTime().getSeconds();
    assertEquals(rotated.getActivationTime().getSeconds(), activatedAt, "on the agreed time");
    var registry = cluster.nodes.get(cluster.leaderId()).metrics().registry();
    assertTrue(registry.counter("rotation.acknowledgements").getCount() >= 3);
    assertTrue(registry.timer("rotation.acknowledgement-latency").getCount() >= 3);
  }

  @Test
  void dataKeysFromBeforeARotation_stillDecryptAfterIt() {
    String name = unique("dek");
    keys().createKey(newKey(name, RotationPolicy.newBuilder().setRotationPeriod(seconds(1))));
    List<GenerateDataKeyResponse> before = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      before.add(
          keys()
              .generateDataKey(
                  GenerateDataKeyRequest.newBuilder()
                      .setKeyName(name)
                      .putContext("i", "" + i)
                      .build()));
    }
    awaitKey(name, k -> k.getPrimaryVersion() >= 3, 30, "two rotations");

    // Followers redirect data-plane calls to the leader (reads.follower=redirect).
    for (int i = 0; i < before.size(); i++) {
      for (String node : List.of(cluster.leaderId())) {
        ByteString plaintext =
            cluster
                .keys(node)
                .decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertext(before.get(i).getWrappedDataKey())
                        .putContext("i", "" + i)
                        .build())
                .getPlaintext();
        assertEquals(before.get(i).getPlaintext(), plaintext, "data key " + i + " on " + node);
      }
    }
  }

  @Test
  void usageLimit_rotatesAtTheReservedCount() {
    String name = unique("usage");
    keys().createKey(newKey(name, RotationPolicy.newBuilder().setMaxEncryptions(5)));
    for (int i = 0; i < 5; i++) {
      encrypt(name, "payload " + i);
    }

    Key rotated = awaitKey(name, k -> k.getVersionsCount() == 2, 30, "a usage rotation");

    assertEquals(RotationReason.ROTATION_REASON_USAGE, rotated.getVersions(1).getRotationReason());
    assertEquals(5, rotated.getVersions(0).getEncryptions(), rotated.toString());
    assertEquals(5, rotated.getVersions(0).getEncryptionLimit(), rotated.toString());
  }

  @Test
  void dependencies_rotatingAKeyRotatesItsDependentsAfterIt_cyclesRefused() {
    String root = unique("root");
    String child = unique("child");
    keys().createKey(newKey(root));
    keys().createKey(newKey(child));
    keys().setKeyDependents(dependents(root, child));

    StatusRuntimeException cycle =
        assertThrows(
            StatusRuntimeException.class, () -> keys().setKeyDependents(dependents(child, root)));
    assertEquals(Status.Code.FAILED_PRECONDITION, cycle.getStatus().getCode());
    assertEquals("DEPENDENCY_CYCLE", GrpcErrors.reason(cycle));
    StatusRuntimeException unknown =
        assertThrows(
            StatusRuntimeException.class,
            () -> keys().setKeyDependents(dependents(child, "no-such-key")));
    assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());

    keys().rotateKey(rotation(root));

    Key dependent = awaitKey(child, k -> k.getVersionsCount() == 2, 20, "the dependent's rotation");
    assertEquals(
        RotationReason.ROTATION_REASON_DEPENDENCY, dependent.getVersions(1).getRotationReason());
    Key parent = get(cluster.leaderId(), root);
    assertTrue(
        timeMillis(dependent.getVersions(1).getCreateTime())
            >= timeMillis(parent.getVersions(1).getCreateTime()),
        "after the key it depends on");
  }

  @Test
  void bulkRotation_ofALabel_rotatesEveryMatchingKeyAndReportsProgress() {
    String team = "team" + UUID.randomUUID().toString().substring(0, 6);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String name = unique("bulk");
      keys().createKey(CreateKeyRequest.newBuilder().setName(name).putLabels("team", team).build());
      names.add(name);
    }
    String outsider = unique("outsider");
    keys().createKey(newKey(outsider));

    BulkRotation job =
        keys()
            .startBulkRotation(
                StartBulkRotationRequest.newBuilder()
                    .putLabelSelector("team", team)
                    .setReason(RotationReason.ROTATION_REASON_COMPROMISE)
                    .build());

    assertEquals(40, job.getTotal());
    Replicas.waitUntil(
        () ->
            keys()
                    .getBulkRotation(GetBulkRotationRequest.newBuilder().setId(job.getId()).build())
                    .getRemaining()
                == 0,
        java.time.Duration.ofSeconds(30),
        "the bulk rotation to finish");
    for (String name : names) {
      Key key = get(cluster.leaderId(), name);
      assertEquals(2, key.getPrimaryVersion(), name);
      assertEquals(
          KeyVersionState.KEY_VERSION_STATE_DISABLED, key.getVersions(0).getState(), "compromise");
    }
    assertEquals(1, get(cluster.leaderId(), outsider).getVersionsCount());
    StatusRuntimeException everything =
        assertThrows(
            StatusRuntimeException.class,
            () -> keys().startBulkRotation(StartBulkRotationRequest.getDefaultInstance()));
    assertEquals("SELECTOR_REQUIRED", GrpcErrors.reason(everything));
  }

  @Test
  void rollback_previousVersionPrimaryAgain_rolledBackDataStillDecrypts() {
    String name = unique("rollback");
    keys().createKey(newKey(name));
    keys().rotateKey(rotation(name));
    EncryptResponse underV2 = encrypt(name, "v2 data");
    assertEquals(2, underV2.getKeyVersion());

    Key rolledBack =
        keys()
            .rollbackRotation(
                RollbackRotationRequest.newBuilder()
                    .setName(name)
                    .setVersion(2)
                    .setReason("bad deploy")
                    .build());

    assertEquals(1, rolledBack.getPrimaryVersion());
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY, rolledBack.getVersions(1).getState());
    assertEquals(1, encrypt(name, "x").getKeyVersion());
    for (String node : List.of(cluster.leaderId())) {
      assertEquals(
          "v2 data",
          cluster
              .keys(node)
              .decrypt(decryption(underV2.getCiphertext()))
              .getPlaintext()
              .toStringUtf8());
    }
  }

  @Test
  void destroy_afterTheWaitingPeriodTheMaterialIsGoneAndUseRefused() {
    String name = unique("destroy");
    keys().createKey(newKey(name));
    EncryptResponse underV1 = encrypt(name, "old");
    keys().rotateKey(rotation(name));
    keys().disableKeyVersion(disable(name, 1));

    StatusRuntimeException tooShort =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                keys()
                    .scheduleKeyVersionDestroy(
                        ScheduleKeyVersionDestroyRequest.newBuilder()
                            .setName(name)
                            .setVersion(1)
                            .setWaitingPeriod(Duration.newBuilder().setNanos(100_000_000))
                            .build()));
    assertEquals("WAITING_PERIOD_TOO_SHORT", GrpcErrors.reason(tooShort));
    Key scheduled =
        keys()
            .scheduleKeyVersionDestroy(
                ScheduleKeyVersionDestroyRequest.newBuilder()
                    .setName(name)
                    .setVersion(1)
                    .setWaitingPeriod(seconds(1))
                    .build());
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_DESTROY_SCHEDULED, scheduled.getVersions(0).getState());

    awaitKey(
        name,
        k -> k.getVersions(0).getState() == KeyVersionState.KEY_VERSION_STATE_DESTROYED,
        20,
        "the destroy");
    cluster.awaitConvergence();
    for (KeyrotorNode node : cluster.nodes.values()) {
      assertFalse(
          node.raft().state().key(name).orElseThrow().getVersions(0).hasKek(), "material erased");
    }
    StatusRuntimeException refused =
        assertThrows(
            StatusRuntimeException.class,
            () -> keys().decrypt(decryption(underV1.getCiphertext())));
    assertEquals("VERSION_DESTROYED", GrpcErrors.reason(refused));
  }

  @Test
  void events_streamInLogOrderAndResumeFromACursor() throws Exception {
    String name = unique("watched");
    BlockingQueue<KeyEvent> received = new LinkedBlockingQueue<>();
    String follower = cluster.followerIds().get(0);
    // Watch from the follower's applied index before the writes (a cursor of a bare log index is
    // "after that entry"): a watch "from now" would race the writes to the server, and the mutual
    // TLS handshake makes it start late enough to miss them.
    String before =
        Long.toString(cluster.nodes.get(follower).raft().state().appliedPosition().index());
    Context.CancellableContext watch = Context.current().withCancellation();
    watch.run(
        () ->
            KeyServiceGrpc.newStub(channelOf(follower))
                .watchKeyEvents(
                    WatchKeyEventsRequest.newBuilder().addKeyNames(name).setCursor(before).build(),
                    collect(received)));
    keys().createKey(newKey(name));
    keys().rotateKey(rotation(name));
    keys().disableKeyVersion(disable(name, 1));

    List<KeyEvent> events = new ArrayList<>();
    while (events.size() < 5) {
      KeyEvent event = received.poll(20, TimeUnit.SECONDS);
      assertTrue(event != null, "events so far: " + events);
      events.add(event);
    }
    watch.cancel(null);
    assertEquals(
        List.of(
            KeyEventType.KEY_EVENT_TYPE_CREATED,
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED,
            KeyEventType.KEY_EVENT_TYPE_ACTIVATED,
            KeyEventType.KEY_EVENT_TYPE_SUPERSEDED,
            KeyEventType.KEY_EVENT_TYPE_DISABLED),
        events.stream().map(KeyEvent::getType).toList());

    // Resume after the second event: the rest, in the same order.
    BlockingQueue<KeyEvent> resumed = new LinkedBlockingQueue<>();
    Context.CancellableContext again = Context.current().withCancellation();
    again.run(
        () ->
            KeyServiceGrpc.newStub(channelOf(cluster.leaderId()))
                .watchKeyEvents(
                    WatchKeyEventsRequest.newBuilder()
                        .addKeyNames(name)
                        .setCursor(events.get(1).getCursor())
                        .build(),
                    collect(resumed)));
    for (int i = 2; i < 5; i++) {
      KeyEvent event = resumed.poll(20, TimeUnit.SECONDS);
      assertEquals(events.get(i), event);
    }
    again.cancel(null);
    assertEquals(
        events,
        keys()
            .listKeyEvents(ListKeyEventsRequest.newBuilder().setName(name).build())
            .getEventsList());
  }

  @Test
  void badPolicies_clearErrorsAndNothingChanges() {
    String name = unique("policy");
    keys().createKey(newKey(name));

    expect(
        "INVALID_POLICY",
        SetRotationPolicyRequest.newBuilder()
            .setName(name)
            .setRotationPolicy(RotationPolicy.newBuilder().setRotationPeriod(seconds(0)))
            .build());
    expect(
        "INVALID_DURATION",
        SetRotationPolicyRequest.newBuilder()
            .setName(name)
            .setRotationPolicy(RotationPolicy.newBuilder().setRotationPeriod(seconds(-5)))
            .build());
    expect(
        "ROTATION_PERIOD_TOO_SHORT",
        SetRotationPolicyRequest.newBuilder()
            .setName(name)
            .setRotationPolicy(
                RotationPolicy.newBuilder()
                    .setRotationPeriod(Duration.newBuilder().setNanos(500_000_000)))
            .build());
    expect(
        "INVALID_TIME",
        SetRotationPolicyRequest.newBuilder()
            .setName(name)
            .setRotationPolicy(
                RotationPolicy.newBuilder()
                    .setNextRotationTime(
                        com.google.protobuf.Timestamp.newBuilder().setSeconds(1_000)))
            .build());

    Key unchanged = get(cluster.leaderId(), name);
    assertFalse(unchanged.getRotationPolicy().hasRotationPeriod());
  }

  private void expect(String reason, SetRotationPolicyRequest request) {
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> keys().setRotationPolicy(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getMessage());
    assertEquals(reason, GrpcErrors.reason(e), e.getMessage());
  }

  @Test
  void misprovisionedNode_cannotValidate_rotationCancelledAndReportedAsFailed() throws Exception {
    // Give n3 a different master key for zone "default": it starts (it holds the zone) but cannot
    // unwrap what the others wrap, so it never acknowledges, like a node whose HSM lacks the key.
    String name = unique("blocked");
    Path nodeDir = cluster.directory.resolve("n3");
    cluster.stop("n3");
    char[] passphrase = Files.readString(nodeDir.resolve("hsm/passphrase")).strip().toCharArray();
    Path keyFile = nodeDir.resolve("hsm/zmk.p12");
    Files.delete(keyFile);
    SoftwareKeyStoreFile.create(keyFile, passphrase);
    SoftwareKeyStoreFile.createZone(keyFile, passphrase, "default");
    SoftwareKeyStoreFile.createZone(keyFile, passphrase, "local");
    try {
      cluster.start("n3");
      String proposer = cluster.leaderId().equals("n3") ? "n1" : cluster.leaderId();
      cluster.keys(proposer).createKey(newKey(name));

      RotateKeyResponse rotated = cluster.keys(proposer).rotateKey(rotation(name, 2));
      assertEquals(2, rotated.getNewVersion());

      Key after =
          awaitKey(
              name,
              k -> k.getVersions(1).getState() == KeyVersionState.KEY_VERSION_STATE_CANCELLED,
              30,
              "the gate to cancel the rotation");
      assertEquals(1, after.getPrimaryVersion(), "the previous version stays primary");
      assertTrue(
          after.getVersions(1).getStatusReason().contains("n3"),
          after.getVersions(1).getStatusReason());
      assertFalse(after.getVersions(1).getAcknowledgedByList().contains("n3"));
      List<RotationStatus> failed =
          keys()
              .listRotations(ListRotationsRequest.getDefaultInstance())
              .getRotationsList()
              .stream()
              .filter(
                  r ->
                      r.getKeyName().equals(name) && r.getKind() == RotationStatus.Kind.KIND_FAILED)
              .toList();
      assertEquals(1, failed.size());
      List<KeyEvent> history =
          keys()
              .listKeyEvents(ListKeyEventsRequest.newBuilder().setName(name).build())
              .getEventsList();
      assertEquals(
          KeyEventType.KEY_EVENT_TYPE_CANCELLED, history.get(history.size() - 1).getType());
    } finally {
      Arrays_fill(passphrase);
    }
  }

  private static void Arrays_fill(char[] secret) {
    java.util.Arrays.fill(secret, '\0');
  }

  private io.grpc.ManagedChannel channelOf(String id) {
    return TestTls.adminChannel(cluster.directory, cluster.apiAddress(id));
  }

  private static StreamObserver<KeyEvent> collect(BlockingQueue<KeyEvent> into) {
    return new StreamObserver<>() {
      @Override
      public void onNext(KeyEvent event) {
        into.add(event);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  private static long timeMillis(com.google.protobuf.Timestamp t) {
    return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
  }
}
