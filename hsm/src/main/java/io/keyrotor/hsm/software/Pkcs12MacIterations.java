package io.keyrotor.hsm.software;

/**
 * Reads the iteration count of a PKCS#12 file's integrity MAC from its DER encoding: the PFX is
 * {@code SEQUENCE { version, authSafe, macData SEQUENCE { mac, macSalt, iterations INTEGER } }}
 * (RFC 7292). The JDK exposes no way to ask a loaded key store for it.
 */
final class Pkcs12MacIterations {
  private Pkcs12MacIterations() {}

  /** The MAC's iteration count, or 0 if the file has no MAC or is not a PFX this can read. */
  static int of(byte[] der) {
    try {
      int[] pfx = element(der, 0, 0x30);
      int position = pfx[0];
      int end = pfx[1];
      // version, authSafe
      position = skip(der, position);
      position = skip(der, position);
      if (position >= end) {
        return 0; // no macData
      }
      int[] macData = element(der, position, 0x30);
      int inner = macData[0];
      inner = skip(der, inner); // mac
      inner = skip(der, inner); // macSalt
      if (inner >= macData[1]) {
        return 1; // iterations DEFAULT 1
      }
      int[] iterations = element(der, inner, 0x02);
      long value = 0;
      for (int i = iterations[0]; i < iterations[1]; i++) {
        value = (value << 8) | (der[i] & 0xff);
        if (value > Integer.MAX_VALUE) {
          return Integer.MAX_VALUE;
        }
      }
      return (int) value;
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      return 0;
    }
  }

  /** The start and end of the contents of the element at {@code position}, of tag {@code tag}. */
  private static int[] element(byte[] der, int position, int tag) {
    if ((der[position] & 0xff) != tag) {
      throw new IllegalArgumentException("unexpected tag");
    }
    int lengthByte = der[position + 1] & 0xff;
    int start = position + 2;
    long length = lengthByte;
    if (lengthByte > 0x80) {
      int count = lengthByte - 0x80;
      if (count > 4) {
        throw new IllegalArgumentException("length too long");
      }
      length = 0;
      for (int i = 0; i < count; i++) {
        length = (length << 8) | (der[start + i] & 0xff);
      }
      start += count;
    } else if (lengthByte == 0x80) {
      throw new IllegalArgumentException("indefinite length");
    }
    long end = start + length;
    if (end > der.length) {
      throw new IllegalArgumentException("truncated");
    }
    return new int[] {start, (int) end};
  }

  private static int skip(byte[] der, int position) {
    return element(der, position, der[position] & 0xff)[1];
  }
}
