package io.keyrotor.client.envelope;

/** The format bytes this SDK reads, and the error for any other. */
final class EnvelopeFormats {

  private EnvelopeFormats() {}

  static EnvelopeException unsupported(byte format) {
    return new EnvelopeException(
        EnvelopeException.Reason.UNSUPPORTED_FORMAT,
        String.format(
            "not a keyrotor envelope this SDK reads: format byte 0x%02x (known: 0x%02x one-shot,"
                + " 0x%02x stream)",
            format & 0xFF, BlobFormat.FORMAT, StreamFormat.FORMAT));
  }
}
