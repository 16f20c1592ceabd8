package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.SetPolicyRequest;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.server.api.ApiErrors;
import io.keyrotor.storage.StateView;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes every RPC of the public {@code keyrotor.v1} KeyService and AdminService over real gRPC
 * with mutual TLS, as the cluster's administrator, against a real one-node cluster (Ratis, RocksDB,
 * software HSM). Whatever the request bytes, the node must answer OK or a status that is neither
 * INTERNAL nor UNKNOWN, carries an ErrorInfo whose reason is in the public catalogue and a message
 * a person can read; a request refused before anything is proposed (INVALID_ARGUMENT,
 * PERMISSION_DENIED, RESOURCE_EXHAUSTED, ...) must leave the replicated state as it was (nothing in
 * the request's audit trail: no log entry), and any other refusal that reached the log must have
 * been rejected there too (a non-OK result in its audit record). The node's own log entries (a
 * version's validation, an activation) carry no principal in the audit trail and are told apart.
 *
 * <p>Input: the first byte picks the method ({@code byte mod count} in the list of both services'
 * methods sorted by full name, see {@link #METHODS}); the rest is sent as the request's bytes as
 * they are, so unknown fields, invalid UTF-8, huge lengths and truncated messages reach the server.
 * A SetPolicy that parses is sent with an expected_version the policy never has, so a fuzzed policy
 * can be validated but never lock the administrator out. Seeds (a valid request per method, against
 * the keys {@link #setUp} creates, and boundary values) are in
 * src/test/resources/io/keyrotor/server/ApiRequestFuzzITInputs/requests.
 */
class ApiRequestFuzzIT {
  /** Every method of KeyService and AdminService, sorted by full name: the first byte's index. */
  static final List<MethodDescriptor<?, ?>> METHODS = methods();

  /** The key the seeds name: zone "default", versions 1 and 2. */
  static final String KEY = "fuzz-orders";

  /**
   * Refusals that come before anything is proposed: bad input, no permission, a limit. Others
   * (NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, ...) may be the state machine's answer to a
   * proposed command, which is a log entry by design.
   */
  private static final Set<Status.Code> STATE_UNTOUCHED =
      Set.of(
          Status.Code.INVALID_ARGUMENT,
          Status.Code.PERMISSION_DENIED,
          Status.Code.UNAUTHENTICATED,
          Status.Code.RESOURCE_EXHAUSTED,
          Status.Code.OUT_OF_RANGE);

  private static final MethodDescriptor.Marshaller<byte[]> RAW = new RawMarshaller();
  private static final long SET_POLICY_NEVER = Long.MAX_VALUE;

  private static Path directory;
  private static LocalTestCluster cluster;
  private static ManagedChannel admin;

  @BeforeAll
  static void setUp() throws Exception {
    directory = Files.createTempDirectory("keyrotor-api-fuzz");
    cluster = new LocalTestCluster(directory.resolve("cluster"), 1, List.of("eu"));
    cluster.startAll();
    cluster.createKey(KEY, "default");
    cluster.keys("n1").rotateKey(RotateKeyRequest.newBuilder().setName(KEY).build());
    admin = cluster.channelAs("n1", "admin");
  }

  @AfterAll
  static void tearDown() throws IOException {
    LocalTestCluster.closeChecked(cluster);
    try (var files = Files.walk(directory)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @FuzzTest(maxDuration = "30s")
  void requests(byte[] input) {
    if (input.length == 0) {
      return;
    }
    MethodDescriptor<?, ?> method = METHODS.get((input[0] & 0xFF) % METHODS.size());
    byte[] request = neverLockingOut(method, java.util.Arrays.copyOfRange(input, 1, input.length));
    long before = appliedIndex();
    StatusRuntimeException refusal = call(method, request);
    if (refusal == null) {
      return;
    }
    String what = method.getBareMethodName() + " with " + request.length + " request bytes";
    Status status = refusal.getStatus();
    assertNotEquals(Status.Code.INTERNAL, status.getCode(), () -> what + ": " + status);
    assertNotEquals(Status.Code.UNKNOWN, status.getCode(), () -> what + ": " + status);
    ErrorInfo info =
        ApiErrors.errorInfo(refusal)
            .orElseThrow(() -> new AssertionError(what + ": no ErrorInfo in " + status));
    GrpcErrors.catalogued(info);
    assertReadable(what, status.getDescription());
    // Every command applied is audited with the principal it was proposed for (empty for the
    // node's own: registration, the rotation engine, validations), so the request's own entries
    // are the ones of a principal: calls are one at a time and this test is the only caller.
    List<AuditRecord> proposed = new ArrayList<>();
    for (AuditRecord record : state().audit(before + 1, 10_000)) {
      if (!record.getPrincipal().isEmpty()) {
        proposed.add(record);
      }
    }
    if (STATE_UNTOUCHED.contains(status.getCode())) {
      assertTrue(
          proposed.isEmpty(),
          () -> what + ": refused with " + info.getReason() + " but proposed: " + proposed);
    }
    for (AuditRecord record : proposed) {
      assertNotEquals(
          0,
          record.getResultCode(),
          () -> what + ": refused with " + info.getReason() + " but applied: " + record);
    }
  }

  private static long appliedIndex() {
    return state().appliedPosition().index();
  }

  private static StateView state() {
    return cluster.nodes.get("n1").raft().state();
  }

  /** The refusal of {@code request}, or null if the node accepted it. */
  private static StatusRuntimeException call(MethodDescriptor<?, ?> method, byte[] request) {
    MethodDescriptor<byte[], byte[]> raw =
        MethodDescriptor.<byte[], byte[]>newBuilder(RAW, RAW)
            .setType(method.getType())
            .setFullMethodName(method.getFullMethodName())
            .build();
    try {
      if (method.getType() == MethodDescriptor.MethodType.SERVER_STREAMING) {
        // A valid watch streams until its deadline: read what comes within a short one.
        Iterator<byte[]> events =
            ClientCalls.blockingServerStreamingCall(
                admin,
                raw,
                CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS),
                request);
        try {
          while (events.hasNext()) {
            events.next();
          }
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
            return null;
          }
          throw e;
        }
        return null;
      }
      ClientCalls.blockingUnaryCall(
          admin, raw, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
      return null;
    } catch (StatusRuntimeException e) {
      return e;
    }
  }

  /** A parsable SetPolicy request with its expected_version replaced by one never reached. */
  private static byte[] neverLockingOut(MethodDescriptor<?, ?> method, byte[] request) {
    if (!method.equals(AdminServiceGrpc.getSetPolicyMethod())) {
      return request;
    }
    try {
      return SetPolicyRequest.parseFrom(request).toBuilder()
          .setExpectedVersion(SET_POLICY_NEVER)
          .build()
          .toByteArray();
    } catch (InvalidProtocolBufferException e) {
      return request;
    }
  }

  private static void assertReadable(String what, String message) {
    assertTrue(message != null && !message.isBlank(), () -> what + ": a refusal without a message");
    assertFalse(
        message.contains("Exception") || message.contains("java."),
        () -> what + ": a message that shows the server's internals: " + message);
    assertTrue(message.length() <= 4096, () -> what + ": a message of " + message.length());
  }

  private static List<MethodDescriptor<?, ?>> methods() {
    List<MethodDescriptor<?, ?>> out = new ArrayList<>();
    for (ServiceDescriptor service :
        List.of(KeyServiceGrpc.getServiceDescriptor(), AdminServiceGrpc.getServiceDescriptor())) {
      out.addAll(service.getMethods());
    }
    out.sort(Comparator.comparing(MethodDescriptor::getFullMethodName));
    return List.copyOf(out);
  }

  /** Request and response bytes as they are, so the server's own parser sees every input. */
  private static final class RawMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
