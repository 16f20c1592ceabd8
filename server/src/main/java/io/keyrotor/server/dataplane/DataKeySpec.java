package io.keyrotor.server.dataplane;

/** The shape of a generated data key: an AES key of 256 or 128 bits. */
public enum DataKeySpec {
  /** 32 bytes: the default. */
  AES_256(32),
  /** 16 bytes. */
  AES_128(16);

  private final int lengthBytes;

  DataKeySpec(int lengthBytes) {
    this.lengthBytes = lengthBytes;
  }

  /** The key's length in bytes. */
  public int lengthBytes() {
    return lengthBytes;
  }
}
