package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.CancelKeyVersionDestroyRequest;
import io.keyrotor.api.v1.CancelRotationRequest;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GetBulkRotationRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.ListKeyEventsRequest;
import io.keyrotor.api.v1.ListRotationsRequest;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.RollbackRotationRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetKeyDependentsRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.SetVersionFloorsRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.GrpcErrors;
import io.keyrotor.client.testing.ManualClock;
import io.keyrotor.client.testing.TestPki;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every typed method reaches its RPC; every write carries one request id across retries. */
class KeyrotorClientRpcTest {

  private final FakeKeyService keys = new FakeKeyService();
  private FakeNode node;
  private KeyrotorClient client;

  @BeforeEach
  void start() {
    keys.put(
        Key.newBuilder()
            .setName("payments")
            .addVersions(KeyVersion.newBuilder().setVersion(1))
            .build());
    node = FakeNode.start(keys, new FakeAdminService());
    ManualClock clock = new ManualClock(Instant.parse("2025-03-01T12:00:00Z"));
    client = TestPki.clientBuilder(node, clock, 3).leaderDiscovery(false).build();
  }

  @AfterEach
  void stop() {
    client.close();
    node.close();
  }

  static Stream<Arguments> writes() {
    return Stream.of(
        rpc(
            CreateKeyRequest.class,
            c -> c.createKey(CreateKeyRequest.newBuilder().setName("n").build())),
        rpc(RotateKeyRequest.class, c -> c.rotateKey("payments")),
        rpc(DisableKeyVersionRequest.class, c -> c.disableKeyVersion("payments", 1)),
        rpc(EnableKeyVersionRequest.class, c -> c.enableKeyVersion("payments", 1)),
        rpc(
            ScheduleKeyVersionDestroyRequest.class,
            c ->
                c.scheduleKeyVersionDestroy(
                    ScheduleKeyVersionDestroyRequest.newBuilder()
                        .setName("payments")
                        .setVersion(1)
                        .build())),
        rpc(
            CancelKeyVersionDestroyRequest.class,
            c ->
                c.cancelKeyVersionDestroy(
                    CancelKeyVersionDestroyRequest.newBuilder()
                        .setName("payments")
                        .setVersion(1)
                        .build())),
        rpc(
            SetRotationPolicyRequest.class,
            c ->
                c.setRotationPolicy(
                    SetRotationPolicyRequest.newBuilder().setName("payments").build())),
        rpc(CancelRotationRequest.class, c -> c.cancelRotation("payments", 1)),
        rpc(RollbackRotationRequest.class, c -> c.rollbackRotation("payments", 1)),
        rpc(
            SetVersionFloorsRequest.class,
            c ->
                c.setVersionFloors(
                    SetVersionFloorsRequest.newBuilder()
                        .setName("payments")
                        .setMinDecryptionVersion(1)
                        .build())),
        rpc(SetKeyDependentsRequest.class, c -> c.setKeyDependents("payments", List.of())),
        rpc(
            StartBulkRotationRequest.class,
            c -> c.startBulkRotation(StartBulkRotationRequest.newBuilder().setZone("eu").build())));
  }

  /** Each convenience method, the request it must send (request id aside), and the RPC's type. */
  static Stream<Arguments> shapes() {
    return Stream.of(
        shape(
            c -> c.cancelRotation("payments", 2),
            CancelRotationRequest.newBuilder().setName("payments").setVersion(2).build()),
        shape(
            c ->
                c.cancelRotation(
                    CancelRotationRequest.newBuilder()
                        .setName("payments")
                        .setVersion(2)
                        .setReason("validation takes too long")
                        .build()),
            CancelRotationRequest.newBuilder()
                .setName("payments")
                .setVersion(2)
                .setReason("validation takes too long")
                .build()),
        shape(
            c -> c.rollbackRotation("payments", 2),
            RollbackRotationRequest.newBuilder().setName("payments").setVersion(2).build()),
        shape(
            c ->
                c.setVersionFloors(
                    SetVersionFloorsRequest.newBuilder()
                        .setName("payments")
                        .setMinDecryptionVersion(2)
                        .setMinEncryptionVersion(3)
                        .build()),
            SetVersionFloorsRequest.newBuilder()
                .setName("payments")
                .setMinDecryptionVersion(2)
                .setMinEncryptionVersion(3)
                .build()),
        shape(
            c -> c.setKeyDependents("payments", List.of("ledger", "invoices")),
            SetKeyDependentsRequest.newBuilder()
                .setName("payments")
                .addDependents("ledger")
                .addDependents("invoices")
                .build()),
        shape(
            c -> c.scheduleKeyVersionDestroy("payments", 1),
            ScheduleKeyVersionDestroyRequest.newBuilder()
                .setName("payments")
                .setVersion(1)
                .build()),
        shape(
            c -> c.cancelKeyVersionDestroy("payments", 1),
            CancelKeyVersionDestroyRequest.newBuilder().setName("payments").setVersion(1).build()),
        shape(
            c ->
                c.startBulkRotation(
                    StartBulkRotationRequest.newBuilder()
                        .setZone("eu")
                        .putLabelSelector("team", "pay")
                        .setReason(RotationReason.ROTATION_REASON_COMPROMISE)
                        .build()),
            StartBulkRotationRequest.newBuilder()
                .setZone("eu")
                .putLabelSelector("team", "pay")
                .setReason(RotationReason.ROTATION_REASON_COMPROMISE)
                .build()),
        shape(
            c -> c.getBulkRotation("job-1"),
            GetBulkRotationRequest.newBuilder().setId("job-1").build()),
        shape(
            c ->
                c.listRotations(
                    ListRotationsRequest.newBuilder()
                        .setDueWithin(com.google.protobuf.Duration.newBuilder().setSeconds(3600))
                        .build()),
            ListRotationsRequest.newBuilder()
                .setDueWithin(com.google.protobuf.Duration.newBuilder().setSeconds(3600))
                .build()),
        shape(
            c -> c.listKeyEvents("payments"),
            ListKeyEventsRequest.newBuilder().setName("payments").build()));
  }

  private static Arguments shape(Consumer<KeyrotorClient> call, Message expected) {
    return Arguments.of(expected.getDescriptorForType().getName(), call, expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("shapes")
  void call_sendsExactlyTheExpectedRequest_plusARequestIdForWrites(
      String name, Consumer<KeyrotorClient> call, Message expected) {
    keys.put(
        Key.newBuilder()
            .setName("payments")
            .addVersions(KeyVersion.newBuilder().setVersion(1))
            .addVersions(KeyVersion.newBuilder().setVersion(2))
            .build());
    keys.put(Key.newBuilder().setName("ledger").build());
    keys.put(Key.newBuilder().setName("invoices").build());
    if (expected instanceof GetBulkRotationRequest) {
      client.startBulkRotation(
          StartBulkRotationRequest.newBuilder().setZone("eu").setRequestId("job-1").build());
    }

    call.accept(client);

    List<? extends Message> sent = keys.received(expected.getClass());
    assertEquals(1, sent.size());
    Message request = sent.get(0);
    FieldDescriptor requestId = request.getDescriptorForType().findFieldByName("request_id");
    if (requestId != null) {
      assertFalse(((String) request.getField(requestId)).isEmpty(), "a request id is attached");
      request = request.toBuilder().clearField(requestId).build();
    }
    assertEquals(expected, request);
  }

  @org.junit.jupiter.api.Test
  void startBulkRotation_requestIdGivenByCaller_isKeptAndBecomesTheJobId() {
    BulkRotation job =
        client.startBulkRotation(
            StartBulkRotationRequest.newBuilder().setZone("eu").setRequestId("nightly-42").build());

    assertEquals("nightly-42", job.getId());
    assertEquals("nightly-42", keys.received(StartBulkRotationRequest.class).get(0).getRequestId());
    assertEquals("nightly-42", client.getBulkRotation("nightly-42").getId());
  }

  @org.junit.jupiter.api.Test
  void startBulkRotation_replyLostThenRetried_returnsTheSameJob() {
    keys.failNext(GrpcErrors.noLeader());

    BulkRotation job =
        client.startBulkRotation(StartBulkRotationRequest.newBuilder().setZone("eu").build());

    List<StartBulkRotationRequest> attempts = keys.received(StartBulkRotationRequest.class);
    assertEquals(2, attempts.size());
    assertEquals(attempts.get(0).getRequestId(), job.getId());
    assertEquals(attempts.get(1).getRequestId(), job.getId());
  }

  /** A case named after the request type: {@code call} sends requests of {@code type}. */
  private static Arguments rpc(Class<? extends Message> type, Consumer<KeyrotorClient> call) {
    return Arguments.of(type.getSimpleName(), type, call);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("writes")
  void write_retriedAfterNoLeader_sendsOneNonEmptyRequestIdOnEveryAttempt(
      String name, Class<? extends Message> type, Consumer<KeyrotorClient> call) {
    keys.failNext(GrpcErrors.noLeader(), GrpcErrors.noLeader());

    call.accept(client);

    List<? extends Message> attempts = keys.received(type);
    assertEquals(3, attempts.size());
    FieldDescriptor requestId =
        attempts.get(0).getDescriptorForType().findFieldByName("request_id");
    String first = (String) attempts.get(0).getField(requestId);
    assertFalse(first.isEmpty());
    for (Message attempt : attempts) {
      assertEquals(first, attempt.getField(requestId));
    }
  }

  static Stream<Arguments> dataPlane() {
    return Stream.of(
        rpc(
            GenerateDataKeyRequest.class,
            c -> c.generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName("k").build())),
        rpc(
            GenerateDataKeyRequest.class,
            c ->
                c.generateDataKeyWithoutPlaintext(
                    GenerateDataKeyRequest.newBuilder().setKeyName("k").build())),
        rpc(EncryptRequest.class, c -> c.encrypt(EncryptRequest.getDefaultInstance())),
        rpc(DecryptRequest.class, c -> c.decrypt(DecryptRequest.getDefaultInstance())),
        rpc(ReEncryptRequest.class, c -> c.reEncrypt(ReEncryptRequest.getDefaultInstance())),
        rpc(
            BatchDecryptRequest.class,
            c -> c.batchDecrypt(BatchDecryptRequest.getDefaultInstance())),
        rpc(
            BatchReEncryptRequest.class,
            c -> c.batchReEncrypt(BatchReEncryptRequest.getDefaultInstance())),
        rpc(
            ListRotationsRequest.class,
            c -> c.listRotations(ListRotationsRequest.getDefaultInstance())),
        rpc(ListKeyEventsRequest.class, c -> c.listKeyEvents("payments")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dataPlane")
  void dataPlaneCall_retriedAfterNoLeader_reachesItsRpc(
      String name, Class<? extends Message> type, Consumer<KeyrotorClient> call) {
    keys.failNext(GrpcErrors.noLeader());

    call.accept(client);

    assertEquals(2, keys.received(type).size());
  }
}
