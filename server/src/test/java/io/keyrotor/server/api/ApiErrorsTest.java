package io.keyrotor.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.consensus.ConsensusException;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.dataplane.DataPlaneException;
import io.keyrotor.server.hsm.HsmExecutor;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every status the error mapper builds carries a name of the public ErrorReason catalogue. */
class ApiErrorsTest {

  /** The ErrorInfo reason of {@code e}, checked to be a catalogue name a client can switch on. */
  private static ErrorReason catalogueReason(StatusRuntimeException e) {
    String name = ApiErrors.reasonOf(e);
    ErrorReason reason = ErrorReason.valueOf(name); // throws for a name outside the catalogue
    assertNotEquals(ErrorReason.UNRECOGNIZED, reason, name);
    assertNotEquals(ErrorReason.ERROR_REASON_UNSPECIFIED, reason, name);
    return reason;
  }

  private static CommandResultRecord rejected(Code code, String reason) {
    return CommandResultRecord.newBuilder()
        .setCode(code.getNumber())
        .setReason(reason)
        .setMessage("refused")
        .build();
  }

  @Test
  void reasonParameters_areTyped_noMethodTakesAReasonString() {
    List<String> stringReasons = new ArrayList<>();
    int typed = 0;
    for (Method method : ApiErrors.class.getDeclaredMethods()) {
      Class<?>[] parameters = method.getParameterTypes();
      for (int i = 0; i < parameters.length; i++) {
        if (parameters[i] == Code.class) {
          if (i + 1 < parameters.length && parameters[i + 1] == ErrorReason.class) {
            typed++;
          } else {
            stringReasons.add(method.toString());
          }
        }
      }
    }
    assertTrue(
        stringReasons.isEmpty(), () -> "a reason not typed as ErrorReason: " + stringReasons);
    assertTrue(typed >= 2, "error(Code, ErrorReason, ...) is how statuses are built");
  }

  @Test
  void fromOutcome_catalogueReason_keepsItsNameAndCode() {
    StatusRuntimeException e = ApiErrors.fromOutcome(rejected(Code.ALREADY_EXISTS, "KEY_EXISTS"));

    assertEquals(Status.Code.ALREADY_EXISTS, e.getStatus().getCode());
    assertEquals(ErrorReason.KEY_EXISTS, catalogueReason(e));
    assertEquals("refused", e.getStatus().getDescription());
  }

  @Test
  void fromOutcome_reasonOutsideTheCatalogue_isRejected() {
    for (String reason :
        List.of(
            "", "A_NEWER_NODES_WORD", "UNRECOGNIZED", "ERROR_REASON_UNSPECIFIED", "key_exists")) {
      StatusRuntimeException e = ApiErrors.fromOutcome(rejected(Code.FAILED_PRECONDITION, reason));
      assertEquals(ErrorReason.REJECTED, catalogueReason(e), reason);
      assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), reason);
    }
  }

  @Test
  void fromHsm_failuresOtherThanUnavailableZoneOrUnwrap_areHsmFailed() {
    Map<HsmException.Reason, ErrorReason> own =
        Map.of(
            HsmException.Reason.HSM_UNAVAILABLE, ErrorReason.HSM_UNAVAILABLE,
            HsmException.Reason.ZONE_NOT_HELD, ErrorReason.ZONE_NOT_HELD,
            HsmException.Reason.UNWRAP_FAILED, ErrorReason.UNWRAP_FAILED,
            HsmException.Reason.KEK_CHECK_FAILED, ErrorReason.KEK_CHECK_FAILED);
    for (HsmException.Reason failure : HsmException.Reason.values()) {
      StatusRuntimeException e =
          ApiErrors.fromHsm(new HsmException(failure, "module says no"), "default");
      assertEquals(
          own.getOrDefault(failure, ErrorReason.HSM_FAILED), catalogueReason(e), failure.name());
      if (!own.containsKey(failure)) {
        assertEquals(Status.Code.INTERNAL, e.getStatus().getCode(), failure.name());
      }
    }
  }

  @Test
  void fromConsensus_everyKind_aCatalogueReasonAndUnavailable() {
    for (ConsensusException.Kind kind : ConsensusException.Kind.values()) {
      StatusRuntimeException e =
          ApiErrors.fromConsensus(new ConsensusException(kind, "x", "n2", null), id -> "h:1");
      catalogueReason(e);
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), kind.name());
    }
  }

  @Test
  void fromDataPlane_refusalsKeepTheirReasonWithTheirCode() {
    Map<ErrorReason, Status.Code> cases =
        Map.of(
            ErrorReason.INVALID_CIPHERTEXT, Status.Code.INVALID_ARGUMENT,
            ErrorReason.KEY_NOT_FOUND, Status.Code.NOT_FOUND,
            ErrorReason.VERSION_DISABLED, Status.Code.FAILED_PRECONDITION,
            ErrorReason.HSM_UNAVAILABLE, Status.Code.UNAVAILABLE,
            ErrorReason.UNWRAP_FAILED, Status.Code.DATA_LOSS,
            ErrorReason.HSM_FAILED, Status.Code.INTERNAL);
    cases.forEach(
        (reason, code) -> {
          StatusRuntimeException e =
              ApiErrors.fromDataPlane(
                  new DataPlaneException(reason, "no", Map.of("key", "orders")));
          assertEquals(reason, catalogueReason(e));
          assertEquals(code, e.getStatus().getCode(), reason.name());
        });
  }

  @Test
  void zoneNotHeld_withoutHolders_isZoneNotFound() {
    StatusRuntimeException e = ApiErrors.zoneNotHeld("mars", "n1", Set.of());
    assertEquals(ErrorReason.ZONE_NOT_FOUND, catalogueReason(e));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
  }

  @Test
  void permissionDenied_namesTheOperationAndTarget() {
    StatusRuntimeException e =
        ApiErrors.permissionDenied(Operation.ROTATE_KEY, Target.key("orders"), "no role");

    assertEquals(ErrorReason.PERMISSION_DENIED, catalogueReason(e));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("key \"orders\""));
    assertTrue(e.getStatus().getDescription().contains("no role"));
  }

  @Test
  void hsmSaturated_resourceExhaustedHsmBusy_withRetryDelay() throws Exception {
    StatusRuntimeException e = ApiErrors.hsmSaturated(new HsmExecutorSaturation().refusal());

    assertEquals(ErrorReason.HSM_BUSY, catalogueReason(e));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    com.google.rpc.RetryInfo retry = null;
    for (com.google.protobuf.Any detail :
        io.grpc.protobuf.StatusProto.fromThrowable(e).getDetailsList()) {
      if (detail.is(com.google.rpc.RetryInfo.class)) {
        retry = detail.unpack(com.google.rpc.RetryInfo.class);
      }
    }
    assertTrue(retry != null, "a RetryInfo");
    com.google.protobuf.Duration delay = retry.getRetryDelay();
    assertEquals(
        ApiErrors.HSM_BUSY_RETRY_DELAY.toMillis(),
        delay.getSeconds() * 1000 + delay.getNanos() / 1_000_000);
  }

  /** A real Saturated refusal, from an executor whose one thread and one queue slot are busy. */
  private static final class HsmExecutorSaturation {
    HsmExecutor.Saturated refusal() {
      try (HsmExecutor executor = new HsmExecutor(1, 1)) {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        executor.execute(
            () -> {
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
        while (true) {
          try {
            executor.execute(() -> {});
          } catch (HsmExecutor.Saturated saturated) {
            release.countDown();
            return saturated;
          }
        }
      }
    }
  }

  @Test
  void internal_aCatalogueReasonNamingTheFailureNotItsData() {
    StatusRuntimeException e = ApiErrors.internal(new IllegalStateException("bug"));
    assertEquals(ErrorReason.INTERNAL, catalogueReason(e));
    assertFalse(e.getStatus().getDescription().isBlank());
  }

  /** The details of {@code e} of type {@code type}, unpacked. */
  private static <T extends com.google.protobuf.Message> List<T> details(
      StatusRuntimeException e, Class<T> type) throws Exception {
    List<T> out = new ArrayList<>();
    for (com.google.protobuf.Any detail :
        io.grpc.protobuf.StatusProto.fromThrowable(e).getDetailsList()) {
      if (detail.is(type)) {
        out.add(detail.unpack(type));
      }
    }
    return out;
  }

  @Test
  void invalid_namesTheFieldInABadRequestFieldViolation() throws Exception {
    StatusRuntimeException e =
        ApiErrors.invalid("page_size", ErrorReason.INVALID_PAGE_SIZE, "page_size is too big");

    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals(ErrorReason.INVALID_PAGE_SIZE, catalogueReason(e));
    List<com.google.rpc.BadRequest> bad = details(e, com.google.rpc.BadRequest.class);
    assertEquals(1, bad.size());
    assertEquals("page_size", bad.get(0).getFieldViolations(0).getField());
    assertEquals("page_size is too big", bad.get(0).getFieldViolations(0).getDescription());
  }

  @Test
  void dataPlaneBadInput_namesTheField_andRefusedCommandsToo() throws Exception {
    StatusRuntimeException ciphertext =
        ApiErrors.fromDataPlane(
            new DataPlaneException(ErrorReason.INVALID_CIPHERTEXT, "bad", Map.of()));
    StatusRuntimeException policy =
        ApiErrors.fromOutcome(rejected(Code.INVALID_ARGUMENT, "INVALID_POLICY"));

    assertEquals(
        "ciphertext",
        details(ciphertext, com.google.rpc.BadRequest.class)
            .get(0)
            .getFieldViolations(0)
            .getField());
    assertEquals(
        "rotation_policy",
        details(policy, com.google.rpc.BadRequest.class).get(0).getFieldViolations(0).getField());
  }

  @Test
  void everyUnavailable_carriesOneRetryInfo_theLeaderRedirectShortest() throws Exception {
    StatusRuntimeException notLeader =
        ApiErrors.fromConsensus(
            new ConsensusException(ConsensusException.Kind.NOT_LEADER, "not leader", "n2", null),
            id -> "127.0.0.1:7102");
    StatusRuntimeException noLeader =
        ApiErrors.fromConsensus(
            new ConsensusException(ConsensusException.Kind.NO_LEADER, "none", null, null),
            id -> null);

    for (StatusRuntimeException e : List.of(notLeader, noLeader, ApiErrors.shuttingDown())) {
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
      assertEquals(1, details(e, com.google.rpc.RetryInfo.class).size(), e.toString());
    }
    assertTrue(
        ApiErrors.unavailableRetryDelay(ErrorReason.NOT_LEADER)
                .compareTo(ApiErrors.unavailableRetryDelay(ErrorReason.NO_LEADER))
            < 0);
  }

  @Test
  void quotaAndLimitRefusals_keepOneRetryInfo() throws Exception {
    StatusRuntimeException quota =
        ApiErrors.quotaExceeded("services", java.time.Duration.ofMillis(1500), "slow down");
    StatusRuntimeException limit =
        ApiErrors.fromDataPlane(
            new DataPlaneException(
                ErrorReason.ENCRYPTION_RESERVATION_UNAVAILABLE,
                "wait",
                Map.of("retry_after_millis", "250")));

    assertEquals(
        com.google.protobuf.Duration.newBuilder().setSeconds(1).setNanos(500_000_000).build(),
        details(quota, com.google.rpc.RetryInfo.class).get(0).getRetryDelay());
    List<com.google.rpc.RetryInfo> retries = details(limit, com.google.rpc.RetryInfo.class);
    assertEquals(1, retries.size());
    assertEquals(
        com.google.protobuf.Duration.newBuilder().setNanos(250_000_000).build(),
        retries.get(0).getRetryDelay());
  }
}
