package io.keyrotor.hsm;

/** A failure of an HSM operation. Messages never contain key material. */
public class HsmException extends Exception {
  private static final long serialVersionUID = 1L;

  /** What went wrong, in terms a caller can act on. */
  public enum Reason {
    /** The HSM (module, token, session, PIN) cannot be used right now. */
    HSM_UNAVAILABLE,
    /** This HSM holds no master key for the zone (or not that version). */
    ZONE_NOT_HELD,
    /** Wrapped bytes failed their integrity check: tampered, wrong zone or wrong key version. */
    UNWRAP_FAILED,
    /** The mechanism is unknown or not supported by this module. */
    UNSUPPORTED_MECHANISM,
    /**
     * An unwrapped key does not match the check value recorded with it: the wrapped bytes belong to
     * another record, or the HSM returned (or wrapped) a wrong key. The key must not be used.
     */
    KEK_CHECK_FAILED,
    /** The request itself is invalid (for example a bad key length). */
    INVALID_REQUEST,
    /** A ceremony step was refused (for example a known-value import outside a test build). */
    REFUSED
  }

  private final Reason reason;

  public HsmException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public HsmException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
