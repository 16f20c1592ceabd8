package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.client.testing.GrpcErrors;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reason of a failure as an {@link ErrorReason} value, from the ErrorInfo a server sent. */
class KeyrotorExceptionTest {

  private static KeyrotorException fromServer(String domain, String reason) {
    ErrorInfo info = ErrorInfo.newBuilder().setDomain(domain).setReason(reason).build();
    StatusRuntimeException error =
        StatusProto.toStatusRuntimeException(
            com.google.rpc.Status.newBuilder()
                .setCode(Status.Code.FAILED_PRECONDITION.value())
                .setMessage("refused")
                .addDetails(Any.pack(info))
                .build());
    return KeyrotorException.fromGrpc(error, "127.0.0.1:7101");
  }

  @Test
  void knownName_isThatValue() {
    KeyrotorException error =
        KeyrotorException.fromGrpc(GrpcErrors.keyNotFound("payments"), "127.0.0.1:7101");

    assertEquals(ErrorReason.KEY_NOT_FOUND, error.errorReason());
    assertEquals("KEY_NOT_FOUND", error.reason());
    assertTrue(error.hasReason(ErrorReason.KEY_NOT_FOUND));
    assertFalse(error.hasReason(ErrorReason.KEY_EXISTS));
  }

  @Test
  void everyValueOfTheCatalogue_mapsToItself() {
    for (ErrorReason value : ErrorReason.values()) {
      if (value == ErrorReason.UNRECOGNIZED || value == ErrorReason.ERROR_REASON_UNSPECIFIED) {
        continue;
      }
      assertEquals(value, fromServer(KeyrotorException.DOMAIN, value.name()).errorReason());
    }
  }

  @Test
  void unknownName_isUnspecified_andKeptAsReceived() {
    KeyrotorException error = fromServer(KeyrotorException.DOMAIN, "SOMETHING_NEWER");

    assertEquals(ErrorReason.ERROR_REASON_UNSPECIFIED, error.errorReason());
    assertEquals("SOMETHING_NEWER", error.reason());
    assertFalse(error.hasReason(ErrorReason.ERROR_REASON_UNSPECIFIED));
    assertEquals("refused (SOMETHING_NEWER)", error.getMessage());
  }

  @Test
  void protobufsPlaceholderName_isUnspecified() {
    assertEquals(
        ErrorReason.ERROR_REASON_UNSPECIFIED,
        fromServer(KeyrotorException.DOMAIN, "UNRECOGNIZED").errorReason());
  }

  @Test
  void noErrorInfo_isUnspecified_withAnEmptyReason() {
    KeyrotorException error =
        KeyrotorException.fromGrpc(
            Status.NOT_FOUND.withDescription("no such method").asRuntimeException(),
            "127.0.0.1:7101");

    assertEquals(ErrorReason.ERROR_REASON_UNSPECIFIED, error.errorReason());
    assertEquals("", error.reason());
    assertFalse(error.hasReason(ErrorReason.ERROR_REASON_UNSPECIFIED));
    assertEquals(Status.Code.NOT_FOUND, error.code());
  }

  @Test
  void nameFromAnotherDomain_isUnspecified() {
    KeyrotorException error = fromServer("proxy.example.com", "KEY_NOT_FOUND");

    assertEquals(ErrorReason.ERROR_REASON_UNSPECIFIED, error.errorReason());
    assertEquals("KEY_NOT_FOUND", error.reason());
    assertFalse(error.hasReason(ErrorReason.KEY_NOT_FOUND));
  }

  @Test
  void clientSideReason_isTheCataloguesValue_withNoDomain() {
    KeyrotorException error =
        KeyrotorException.clientSide(
            Status.Code.UNAVAILABLE,
            ErrorReason.NO_SERVER_REACHABLE,
            "no server reachable at 127.0.0.1:7101",
            null);

    assertEquals(ErrorReason.NO_SERVER_REACHABLE, error.errorReason());
    assertEquals("NO_SERVER_REACHABLE", error.reason());
    assertEquals("", error.domain());
    assertEquals("no server reachable at 127.0.0.1:7101", error.getMessage());
  }

  @Test
  void interruptedWait_isACatalogueReason() {
    KeyrotorException error =
        KeyrotorException.clientSide(
            Status.Code.CANCELLED,
            ErrorReason.INTERRUPTED,
            "interrupted while waiting to retry",
            null);

    assertEquals("INTERRUPTED", error.reason());
    assertEquals(ErrorReason.INTERRUPTED, error.errorReason());
  }

  @Test
  void metadataAndCode_areKeptBesideTheReason() {
    KeyrotorException error =
        KeyrotorException.fromGrpc(
            GrpcErrors.error(
                Status.Code.UNAVAILABLE,
                "NOT_LEADER",
                "not the leader",
                Map.of("leader", "127.0.0.1:7102")),
            "127.0.0.1:7101");

    assertTrue(error.hasReason(ErrorReason.NOT_LEADER));
    assertEquals(Status.Code.UNAVAILABLE, error.code());
    assertEquals("127.0.0.1:7102", error.metadata().get("leader"));
  }
}
