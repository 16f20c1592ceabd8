package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.hsm.HsmException;

/**
 * The error reason of an HSM failure, the same for writes (a new key-encryption key) and the data
 * plane (an unwrap): unavailable, zone not held and a failed integrity check each have their own;
 * everything else (an unsupported mechanism, a refused or invalid request) is {@link
 * ErrorReason#HSM_FAILED}, a bug or a misconfiguration.
 */
public final class HsmFailures {
  private HsmFailures() {}

  /** The catalogue reason of {@code failure}. */
  public static ErrorReason reasonOf(HsmException.Reason failure) {
    return switch (failure) {
      case HSM_UNAVAILABLE -> ErrorReason.HSM_UNAVAILABLE;
      case ZONE_NOT_HELD -> ErrorReason.ZONE_NOT_HELD;
      case UNWRAP_FAILED -> ErrorReason.UNWRAP_FAILED;
      case KEK_CHECK_FAILED -> ErrorReason.KEK_CHECK_FAILED;
      case UNSUPPORTED_MECHANISM, INVALID_REQUEST, REFUSED -> ErrorReason.HSM_FAILED;
    };
  }
}
