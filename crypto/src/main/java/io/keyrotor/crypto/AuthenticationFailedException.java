package io.keyrotor.crypto;

import java.security.GeneralSecurityException;

/**
 * An AES-GCM message did not authenticate: the tag does not match the key, nonce, associated data
 * and ciphertext given. The one failure {@link AesGcm#open} reports for any of these, with the same
 * fixed message, because why it failed (tampered bytes, another key, other associated data, a cut
 * message) is exactly what a caller must not learn from it. No plaintext was released.
 *
 * <p>Carries no stack trace: it is an expected outcome on untrusted input, and cheap to throw.
 */
public final class AuthenticationFailedException extends GeneralSecurityException {
  private static final long serialVersionUID = 1L;

  /** The message of every instance. */
  public static final String MESSAGE = "authentication failed";

  AuthenticationFailedException() {
    super(MESSAGE);
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this; // an expected outcome: no stack trace to capture
  }
}
