package io.keyrotor.server;

import static io.keyrotor.server.KeyRequests.decryption;
import static io.keyrotor.server.KeyRequests.encryption;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.testing.Answers.completing;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.TestPolicyRequest;
import io.keyrotor.api.v1.TransferLeadershipRequest;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The conventions gRPC tools and clients in other languages rely on, against a real 3-node cluster
 * over mutual TLS: server reflection in both versions tools ask (v1alpha and v1), behind the same
 * authentication as the rest; and rich error details on the failures of every RPC family (a
 * catalogue ErrorInfo always, a BadRequest FieldViolation naming the field for bad input).
 */
class ApiConventionsIT extends ClusterTestBase {
  private static final long DEADLINE_SECONDS = 20;

  ApiConventionsIT() {
    super(List.of("local"), Map.of());
  }

  // --- reflection ---------------------------------------------------------------------------

  /** The services a reflection client of version v1alpha or v1 lists, or the call's failure. */
  private List<String> listServicesV1Alpha(ManagedChannel channel) throws Exception {
    CompletableFuture<io.grpc.reflection.v1alpha.ServerReflectionResponse> answer =
        new CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1alpha.ServerReflectionRequest> requests =
        io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel)
            .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
            .serverReflectionInfo(completing(answer));
    requests.onNext(
        io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder()
            .setListServices("")
            .build());
    requests.onCompleted();
    List<String> names = new ArrayList<>();
    unwrap(answer)
        .getListServicesResponse()
        .getServiceList()
        .forEach(service -> names.add(service.getName()));
    return names;
  }

  private List<String> listServicesV1(ManagedChannel channel) throws Exception {
    CompletableFuture<io.grpc.reflection.v1.ServerReflectionResponse> answer =
        new CompletableFuture<>();
    StreamObserver<io.grpc.reflection.v1.ServerReflectionRequest> requests =
        io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel)
            .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
            .serverReflectionInfo(completing(answer));
    requests.onNext(
        io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    List<String> names = new ArrayList<>();
    unwrap(answer)
        .getListServicesResponse()
        .getServiceList()
        .forEach(service -> names.add(service.getName()));
    return names;
  }

  private static <T> T unwrap(CompletableFuture<T> answer) throws Exception {
    try {
      return answer.get(DEADLINE_SECONDS * 2, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  @Test
  void reflection_v1alphaAndV1_listTheKeyrotorServices_overMutualTls() throws Exception {
    ManagedChannel admin = cluster.channelAs("n1", "admin");

    List<String> alpha = listServicesV1Alpha(admin);
    List<String> v1 = listServicesV1(admin);

    for (List<String> listed : List.of(alpha, v1)) {
      assertTrue(listed.contains(KeyServiceGrpc.SERVICE_NAME), listed.toString());
      assertTrue(listed.contains(AdminServiceGrpc.SERVICE_NAME), listed.toString());
    }
    assertEquals(new java.util.TreeSet<>(alpha), new java.util.TreeSet<>(v1));
  }

  @Test
  void reflection_bothVersions_refuseACallerWithoutACertificate() {
    ManagedChannel anonymous = cluster.channelWithoutCertificate("n1");

    for (Executable call :
        List.<Executable>of(
            () -> listServicesV1Alpha(anonymous), () -> listServicesV1(anonymous))) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
      assertEquals(ErrorReason.UNAUTHENTICATED.name(), GrpcErrors.reason(e));
    }
  }

  // --- rich error details -------------------------------------------------------------------

  /** The BadRequest detail of {@code e}, if it has one. */
  private static Optional<BadRequest> badRequest(StatusRuntimeException e) {
    for (Any detail : StatusProto.fromThrowable(e).getDetailsList()) {
      if (detail.is(BadRequest.class)) {
        try {
          return Optional.of(detail.unpack(BadRequest.class));
        } catch (InvalidProtocolBufferException broken) {
          throw new AssertionError(broken);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Runs {@code call}, which must fail with {@code code} and a catalogue ErrorInfo of {@code
   * reason}; an INVALID_ARGUMENT must name {@code field} in a BadRequest FieldViolation.
   */
  private static void assertRefused(
      Executable call, Status.Code code, ErrorReason reason, String field) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.toString());
    ErrorInfo info = GrpcErrors.info(e);
    assertEquals(reason.name(), info.getReason(), e.toString());
    if (code == Status.Code.INVALID_ARGUMENT) {
      BadRequest bad = badRequest(e).orElseThrow(() -> new AssertionError("no BadRequest: " + e));
      assertEquals(field, bad.getFieldViolations(0).getField(), e.toString());
      assertTrue(!bad.getFieldViolations(0).getDescription().isBlank(), e.toString());
    }
  }

  @Test
  void keyWritesAndReads_everyRefusal_hasErrorInfo_badInputNamesItsField() {
    KeyServiceGrpc.KeyServiceBlockingStub keys = cluster.keysAs("n2", "admin");
    String name = unique("conv");
    keys.createKey(newKey(name));

    assertRefused(
        () -> keys.createKey(newKey("bad name!")),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_KEY_NAME,
        "name");
    assertRefused(
        () -> keys.createKey(newKey(name)),
        Status.Code.ALREADY_EXISTS,
        ErrorReason.KEY_EXISTS,
        null);
    assertRefused(
        () ->
            keys.createKey(
                CreateKeyRequest.newBuilder().setName(unique("z")).setZone("??").build()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_ZONE,
        "zone");
    assertRefused(
        () -> keys.rotateKey(RotateKeyRequest.newBuilder().setName(unique("absent")).build()),
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        null);
    assertRefused(
        () -> keys.disableKeyVersion(DisableKeyVersionRequest.newBuilder().setName(name).build()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_VERSION,
        "version");
    assertRefused(
        () ->
            keys.setRotationPolicy(
                SetRotationPolicyRequest.newBuilder()
                    .setName(name)
                    .setRotationPolicy(
                        RotationPolicy.newBuilder()
                            .setRotationPeriod(
                                com.google.protobuf.Duration.newBuilder().setSeconds(-5)))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_DURATION,
        "rotation_policy.rotation_period");
    assertRefused(
        () -> keys.getKey(GetKeyRequest.newBuilder().setName(unique("absent")).build()),
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        null);
    assertRefused(
        () -> keys.listKeys(ListKeysRequest.newBuilder().setPageSize(1_000_000).build()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_PAGE_SIZE,
        "page_size");
    assertRefused(
        () -> keys.listKeys(ListKeysRequest.newBuilder().setPageToken("not-a-token").build()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_PAGE_TOKEN,
        "page_token");
    assertRefused(
        () ->
            keys.watchKeyEvents(WatchKeyEventsRequest.newBuilder().addKeyNames("bad name!").build())
                .hasNext(),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_KEY_NAME,
        "key_names");
  }

  @Test
  void dataPlane_everyRefusal_hasErrorInfo_badInputNamesItsField() {
    KeyServiceGrpc.KeyServiceBlockingStub keys = cluster.keysAs("n3", "admin");

    assertRefused(
        () -> keys.encrypt(encryption(unique("absent"), "x")),
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        null);
    assertRefused(
        () -> keys.decrypt(decryption(ByteString.copyFromUtf8("not a keyrotor ciphertext"))),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_CIPHERTEXT,
        "ciphertext");
    assertRefused(
        () ->
            keys.generateDataKey(
                GenerateDataKeyRequest.newBuilder().setKeyName("bad name!").build()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_KEY_NAME,
        "key_name");
  }

  @Test
  void adminAndAccess_everyRefusal_hasErrorInfo_badInputNamesItsField() {
    AdminServiceGrpc.AdminServiceBlockingStub admin = cluster.adminAs("n1", "admin");
    Function<String, KeyServiceGrpc.KeyServiceBlockingStub> as = p -> cluster.keysAs("n1", p);

    assertRefused(
        () ->
            admin.transferLeadership(
                TransferLeadershipRequest.newBuilder().setTargetNodeId("n99").build()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.UNKNOWN_NODE,
        "target_node_id");
    assertRefused(
        () -> admin.testPolicy(TestPolicyRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.INVALID_ACCESS_POLICY,
        "principal");
    assertRefused(
        () -> as.apply("nobody").createKey(newKey(unique("denied"))),
        Status.Code.PERMISSION_DENIED,
        ErrorReason.PERMISSION_DENIED,
        null);
    assertRefused(
        () ->
            KeyServiceGrpc.newBlockingStub(cluster.channelWithoutCertificate("n1"))
                .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .getKey(GetKeyRequest.newBuilder().setName("any").build()),
        Status.Code.UNAUTHENTICATED,
        ErrorReason.UNAUTHENTICATED,
        null);
  }
}
