package io.keyrotor.client.envelope;

import java.util.Objects;

/**
 * An envelope that cannot be produced or opened on the client side: malformed, of an unknown
 * format, failing authentication (tampered, truncated, reordered, or sealed under another context),
 * or a data key from the server that is not a 256-bit key. Failures of the server calls themselves
 * (GenerateDataKey, Decrypt) are {@link io.keyrotor.client.KeyrotorException}s.
 *
 * <p>Messages never contain key bytes, plaintext or context values.
 */
public final class EnvelopeException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Why an envelope failed; stable words, like the server's error reasons. */
  public enum Reason {
    /** The bytes do not parse as an envelope (too short, lengths out of range). */
    MALFORMED_ENVELOPE,
    /** The format byte names a format this SDK does not read. */
    UNSUPPORTED_FORMAT,
    /**
     * Authentication failed: the header, a segment or the tag was changed, segments were dropped,
     * reordered or swapped, or the context differs from the one it was sealed with.
     */
    AUTHENTICATION_FAILED,
    /** A stream ended before its last segment. */
    TRUNCATED,
    /** The server returned a data key that is not 32 bytes, or no wrapped form. */
    INVALID_DATA_KEY,
    /** A stream would exceed 2^32 segments. */
    STREAM_TOO_LONG
  }

  private final Reason reason;

  EnvelopeException(Reason reason, String message) {
    this(reason, message, null);
  }

  EnvelopeException(Reason reason, String message, Throwable cause) {
    super(message + " (" + reason.name() + ")", cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Why it failed. */
  public Reason reason() {
    return reason;
  }
}
