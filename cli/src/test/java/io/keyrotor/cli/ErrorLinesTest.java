package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Status;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.client.KeyrotorException;
import io.keyrotor.client.testing.GrpcErrors;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ErrorLinesTest {

  private static KeyrotorException fromServer(
      Status.Code code, String reason, String message, Map<String, String> metadata) {
    return KeyrotorException.fromGrpc(
        GrpcErrors.error(code, reason, message, metadata), "127.0.0.1:7101");
  }

  @Test
  void keyNotFound_isPhrasedWithKeyNameAndReason() {
    KeyrotorException error =
        fromServer(Status.Code.NOT_FOUND, "KEY_NOT_FOUND", "no such key: payments", Map.of());

    assertEquals(
        "error: key \"payments\" not found (KEY_NOT_FOUND)",
        ErrorLines.format(error, Map.of("key", "payments")));
  }

  @Test
  void versionNotFound_namesKeyAndVersionFromMetadata() {
    KeyrotorException error =
        fromServer(
            Status.Code.NOT_FOUND,
            "VERSION_NOT_FOUND",
            "unknown version",
            Map.of("key", "payments", "version", "9"));

    assertEquals(
        "error: key \"payments\" has no version 9 (VERSION_NOT_FOUND)",
        ErrorLines.format(error, Map.of()));
  }

  @Test
  void otherReason_usesServerMessageAndReason() {
    KeyrotorException error =
        fromServer(
            Status.Code.INVALID_ARGUMENT,
            "INVALID_NAME",
            "invalid key name \"a b\": use 1-128 of [A-Za-z0-9._-]",
            Map.of());

    assertEquals(
        "error: invalid key name \"a b\": use 1-128 of [A-Za-z0-9._-] (INVALID_NAME)",
        ErrorLines.format(error, Map.of("key", "a b")));
  }

  @Test
  void statusWithoutDetails_stillGivesOneReadableLine() {
    KeyrotorException error =
        KeyrotorException.fromGrpc(
            Status.PERMISSION_DENIED.withDescription("caller may not\nrotate").asRuntimeException(),
            "127.0.0.1:7101");

    assertEquals("error: caller may not rotate", ErrorLines.format(error, Map.of()));
  }

  @Test
  void clientSideFailure_isItsMessage() {
    KeyrotorException error =
        KeyrotorException.clientSide(
            Status.Code.UNAVAILABLE,
            ErrorReason.NO_SERVER_REACHABLE,
            "no server reachable at 127.0.0.1:7101,127.0.0.1:7102",
            null);

    assertEquals(
        "error: no server reachable at 127.0.0.1:7101,127.0.0.1:7102",
        ErrorLines.format(error, Map.of()));
  }

  @Test
  void unexpectedException_pointsToVerbose() {
    assertEquals(
        "error: unexpected IllegalStateException: boom (rerun with --verbose)",
        ErrorLines.format(new IllegalStateException("boom"), Map.of()));
  }
}
