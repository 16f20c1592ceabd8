package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.CancelKeyVersionDestroyRequest;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.GrpcErrors;
import io.keyrotor.client.testing.ManualClock;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
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
    client =
        KeyrotorClient.builder()
            .endpoints(node.address())
            .clock(clock)
            .sleeper(clock.sleeper())
            .random(new SplittableRandom(3))
            .leaderDiscovery(false)
            .build();
  }

  @AfterEach
  void stop() {
    client.close();
    node.close();
  }

  static Stream<Arguments> writes() {
    return Stream.of(
        write(
            CreateKeyRequest.class,
            c -> c.createKey(CreateKeyRequest.newBuilder().setName("n").build())),
        write(RotateKeyRequest.class, c -> c.rotateKey("payments")),
        write(DisableKeyVersionRequest.class, c -> c.disableKeyVersion("payments", 1)),
        write(EnableKeyVersionRequest.class, c -> c.enableKeyVersion("payments", 1)),
        write(
            ScheduleKeyVersionDestroyRequest.class,
            c ->
                c.scheduleKeyVersionDestroy(
                    ScheduleKeyVersionDestroyRequest.newBuilder().setName("payments").build())),
        write(
            CancelKeyVersionDestroyRequest.class,
            c ->
                c.cancelKeyVersionDestroy(
                    CancelKeyVersionDestroyRequest.newBuilder().setName("payments").build())),
        write(
            SetRotationPolicyRequest.class,
            c ->
                c.setRotationPolicy(
                    SetRotationPolicyRequest.newBuilder().setName("payments").build())));
  }

  private static Arguments write(Class<? extends Message> type, Consumer<KeyrotorClient> call) {
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
        read(
            GenerateDataKeyRequest.class,
            c -> c.generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName("k").build())),
        read(
            GenerateDataKeyRequest.class,
            c ->
                c.generateDataKeyWithoutPlaintext(
                    GenerateDataKeyRequest.newBuilder().setKeyName("k").build())),
        read(EncryptRequest.class, c -> c.encrypt(EncryptRequest.getDefaultInstance())),
        read(DecryptRequest.class, c -> c.decrypt(DecryptRequest.getDefaultInstance())),
        read(ReEncryptRequest.class, c -> c.reEncrypt(ReEncryptRequest.getDefaultInstance())),
        read(
            BatchDecryptRequest.class,
            c -> c.batchDecrypt(BatchDecryptRequest.getDefaultInstance())),
        read(
            BatchReEncryptRequest.class,
            c -> c.batchReEncrypt(BatchReEncryptRequest.getDefaultInstance())));
  }

  private static Arguments read(Class<? extends Message> type, Consumer<KeyrotorClient> call) {
    return Arguments.of(type.getSimpleName(), type, call);
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
