package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.*;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import java.util.Set;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/** How PKCS#11 return values map to {@link HsmException.Reason}s. */
final class Pkcs11Errors {
  /** The token, its session or its login is gone: retry after recovery, else HSM_UNAVAILABLE. */
  private static final Set<Long> UNAVAILABLE =
      Set.of(
          CKR_DEVICE_ERROR,
          CKR_DEVICE_MEMORY,
          CKR_DEVICE_REMOVED,
          CKR_HOST_MEMORY,
          CKR_TOKEN_NOT_PRESENT,
          CKR_TOKEN_NOT_RECOGNIZED,
          CKR_SESSION_HANDLE_INVALID,
          CKR_SESSION_CLOSED,
          CKR_SESSION_COUNT,
          CKR_USER_NOT_LOGGED_IN,
          CKR_CRYPTOKI_NOT_INITIALIZED,
          CKR_PIN_EXPIRED,
          CKR_PIN_INCORRECT,
          CKR_PIN_LOCKED,
          CKR_FUNCTION_CANCELED,
          CKR_OBJECT_HANDLE_INVALID,
          CKR_KEY_HANDLE_INVALID,
          CKR_WRAPPING_KEY_HANDLE_INVALID,
          CKR_UNWRAPPING_KEY_HANDLE_INVALID);

  /** Worth one retry after logging in again and finding the handles again. */
  private static final Set<Long> RECOVERABLE =
      Set.of(
          CKR_SESSION_HANDLE_INVALID,
          CKR_SESSION_CLOSED,
          CKR_USER_NOT_LOGGED_IN,
          CKR_OBJECT_HANDLE_INVALID,
          CKR_KEY_HANDLE_INVALID,
          CKR_WRAPPING_KEY_HANDLE_INVALID,
          CKR_UNWRAPPING_KEY_HANDLE_INVALID);

  /** The session itself is unusable and must not go back to the pool. */
  private static final Set<Long> SESSION_GONE =
      Set.of(CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED);

  private Pkcs11Errors() {}

  static boolean isUnavailable(PKCS11Exception e) {
    return UNAVAILABLE.contains(e.getErrorCode());
  }

  static boolean isRecoverable(PKCS11Exception e) {
    return RECOVERABLE.contains(e.getErrorCode());
  }

  static boolean isSessionGone(PKCS11Exception e) {
    return SESSION_GONE.contains(e.getErrorCode());
  }

  static boolean is(PKCS11Exception e, long code) {
    return e.getErrorCode() == code;
  }

  static String name(PKCS11Exception e) {
    return e.getErrorName() + " (0x" + Long.toHexString(e.getErrorCode()) + ")";
  }

  static HsmException unavailable(String what, PKCS11Exception e) {
    return new HsmException(Reason.HSM_UNAVAILABLE, what + ": " + name(e), e);
  }
}
