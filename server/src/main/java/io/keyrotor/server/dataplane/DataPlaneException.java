package io.keyrotor.server.dataplane;

import java.util.Map;

/**
 * A data-plane request that cannot be served, for a reason the caller can act on. The API layer
 * turns it into a gRPC status (see {@code ApiErrors.fromDataPlane}); batch calls turn it into a
 * per-item status. Messages and metadata name keys and versions, never key material or plaintext.
 *
 * <p>These are expected outcomes, not bugs, so they carry no stack trace.
 */
public final class DataPlaneException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why the request was refused. The name is the ErrorInfo reason word. */
  public enum Reason {
    /** Not a keyrotor ciphertext, truncated, tampered, another context, unknown key or version. */
    INVALID_CIPHERTEXT,
    /** A plaintext or ciphertext above the size limit of Encrypt/Decrypt. */
    PAYLOAD_TOO_LARGE,
    /** The encryption context is too large or not valid Unicode. */
    INVALID_CONTEXT,
    /** The request names no key or an invalid key name. */
    INVALID_KEY_NAME,
    /** An unknown data key spec. */
    INVALID_DATA_KEY_SPEC,
    /** More items than a batch call takes. */
    BATCH_TOO_LARGE,
    /** The key named in the request does not exist. */
    KEY_NOT_FOUND,
    /** The key has no primary version yet (its first version is still pending). */
    NO_PRIMARY_VERSION,
    /** The version's activation time is still in the future. */
    VERSION_PENDING,
    /** The version is disabled. */
    VERSION_DISABLED,
    /** The version is scheduled for destruction. */
    VERSION_DESTROY_SCHEDULED,
    /** The version's material has been destroyed. */
    VERSION_DESTROYED,
    /** The version's rotation was cancelled before it activated. */
    VERSION_CANCELLED,
    /** The version is below the key's minimum decryption version. */
    BELOW_MIN_DECRYPTION_VERSION,
    /** The primary version is below the key's minimum encryption version. */
    BELOW_MIN_ENCRYPTION_VERSION,
    /** This node does not hold the key's zone (or the zone master key version that wraps it). */
    ZONE_NOT_HELD,
    /** This node's HSM cannot be used right now, and the key-encryption key is not cached. */
    HSM_UNAVAILABLE,
    /** The stored key-encryption key failed the HSM's integrity check when unwrapped. */
    UNWRAP_FAILED,
    /** Any other HSM failure (a bug or misconfiguration). */
    HSM_FAILED
  }

  private final Reason reason;
  private final Map<String, String> metadata;

  public DataPlaneException(Reason reason, String message) {
    this(reason, message, Map.of(), null);
  }

  public DataPlaneException(Reason reason, String message, Map<String, String> metadata) {
    this(reason, message, metadata, null);
  }

  public DataPlaneException(
      Reason reason, String message, Map<String, String> metadata, Throwable cause) {
    super(message, cause, false, false);
    this.reason = reason;
    this.metadata = Map.copyOf(metadata);
  }

  public Reason reason() {
    return reason;
  }

  /** ErrorInfo metadata: {@code key}, {@code version}, {@code zone}, {@code problem}, ... */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The zone a {@link Reason#ZONE_NOT_HELD} refusal is about, or empty. */
  public String zone() {
    return metadata.getOrDefault("zone", "");
  }
}
