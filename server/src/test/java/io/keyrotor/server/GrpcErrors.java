package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.server.api.ApiErrors;
import java.util.Map;

/**
 * Reads the ErrorInfo detail of a keyrotor status in tests, and checks on the way that it is one a
 * client can switch on: domain keyrotor.io and a reason from the public {@link ErrorReason}
 * catalogue. Every integration test that looks at a reason goes through here, so together they
 * check that every reason the server sends over the wire is a catalogue name.
 */
final class GrpcErrors {
  private GrpcErrors() {}

  static ErrorInfo info(StatusRuntimeException e) {
    return ApiErrors.errorInfo(e)
        .map(GrpcErrors::catalogued)
        .orElse(ErrorInfo.getDefaultInstance());
  }

  /** {@code info}, after checking its domain and that its reason is a catalogue name. */
  static ErrorInfo catalogued(ErrorInfo info) {
    assertEquals("keyrotor.io", info.getDomain(), info.toString());
    assertCatalogued(info.getReason());
    return info;
  }

  /** Fails unless {@code reason} names a value of ErrorReason (other than the unspecified one). */
  static void assertCatalogued(String reason) {
    ErrorReason value;
    try {
      value = ErrorReason.valueOf(reason);
    } catch (IllegalArgumentException e) {
      throw new AssertionError("reason \"" + reason + "\" is not in the ErrorReason catalogue");
    }
    assertNotEquals(ErrorReason.UNRECOGNIZED, value, reason);
    assertNotEquals(ErrorReason.ERROR_REASON_UNSPECIFIED, value, reason);
  }

  static String reason(StatusRuntimeException e) {
    return info(e).getReason();
  }

  static Map<String, String> metadata(StatusRuntimeException e) {
    return info(e).getMetadataMap();
  }
}
