package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import java.util.Map;

/**
 * A data-plane request that cannot be served, for a reason the caller can act on: a value of the
 * public catalogue {@link ErrorReason}. The API layer turns it into a gRPC status (see {@code
 * ApiErrors.fromDataPlane}); batch calls turn it into a per-item status. Messages and metadata name
 * keys and versions, never key material or plaintext.
 *
 * <p>The reasons the data plane gives: INVALID_CIPHERTEXT, PAYLOAD_TOO_LARGE, INVALID_CONTEXT,
 * INVALID_KEY_NAME, INVALID_DATA_KEY_SPEC, BATCH_TOO_LARGE (bad input); KEY_NOT_FOUND;
 * NO_PRIMARY_VERSION, VERSION_PENDING, VERSION_DISABLED, VERSION_DESTROY_SCHEDULED,
 * VERSION_DESTROYED, VERSION_CANCELLED, BELOW_MIN_DECRYPTION_VERSION, BELOW_MIN_ENCRYPTION_VERSION
 * (the version's state refuses the use, see {@code io.keyrotor.storage.VersionUse}); ZONE_NOT_HELD;
 * HSM_UNAVAILABLE, UNWRAP_FAILED, HSM_FAILED (the HSM, see {@code
 * io.keyrotor.server.hsm.HsmFailures}).
 *
 * <p>These are expected outcomes, not bugs, so they carry no stack trace.
 */
public final class DataPlaneException extends Exception {
  private static final long serialVersionUID = 1L;

  private final ErrorReason reason;
  private final Map<String, String> metadata;

  public DataPlaneException(ErrorReason reason, String message) {
    this(reason, message, Map.of(), null);
  }

  public DataPlaneException(ErrorReason reason, String message, Map<String, String> metadata) {
    this(reason, message, metadata, null);
  }

  public DataPlaneException(
      ErrorReason reason, String message, Map<String, String> metadata, Throwable cause) {
    super(message, cause, false, false);
    this.reason = reason;
    this.metadata = Map.copyOf(metadata);
  }

  /** Why the request was refused; its name is the ErrorInfo reason. */
  public ErrorReason reason() {
    return reason;
  }

  /** ErrorInfo metadata: {@code key}, {@code version}, {@code zone}, {@code problem}, ... */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The zone a {@link ErrorReason#ZONE_NOT_HELD} refusal is about, or empty. */
  public String zone() {
    return metadata.getOrDefault("zone", "");
  }
}
