package io.keyrotor.client.envelope;

import java.io.IOException;

/**
 * The {@link IOException} that envelope streams throw when the ciphertext is bad: its cause is the
 * {@link EnvelopeException} with the {@link EnvelopeException.Reason}. Once thrown, the stream
 * throws it again on every later call and never returns more plaintext.
 */
public final class EnvelopeStreamException extends IOException {

  private static final long serialVersionUID = 1L;

  EnvelopeStreamException(EnvelopeException cause) {
    super(cause.getMessage(), cause);
  }

  /** Why the stream failed. */
  public EnvelopeException.Reason reason() {
    return ((EnvelopeException) getCause()).reason();
  }
}
