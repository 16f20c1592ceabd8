package io.keyrotor.server.dataplane;

import io.keyrotor.hsm.SecretKeyBytes;
import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import javax.crypto.SecretKey;

/**
 * An unwrapped key-encryption key held by the {@link KekCache}: a JCE {@link SecretKey} view of
 * {@link SecretKeyBytes} owned by the cache. {@link #getEncoded()} hands the JCE a copy for one
 * {@code Cipher.init}; {@link #destroy()} zeroes the owned bytes, after which {@code getEncoded}
 * throws {@link IllegalStateException} (a caller that raced an eviction looks the key up again).
 *
 * <p>No {@code toString} content, identity equality, not serializable.
 */
final class Kek implements SecretKey {
  private static final long serialVersionUID = 1L;

  private final transient SecretKeyBytes bytes;

  Kek(SecretKeyBytes bytes) {
    this.bytes = bytes;
  }

  @Override
  public String getAlgorithm() {
    return "AES";
  }

  @Override
  public String getFormat() {
    return "RAW";
  }

  /** A copy of the key bytes for the JCE; throws {@link IllegalStateException} once destroyed. */
  @Override
  public byte[] getEncoded() {
    return bytes.revealCopy();
  }

  /** Zeroes the key bytes. Idempotent. */
  @Override
  public void destroy() {
    bytes.destroy();
  }

  @Override
  public boolean isDestroyed() {
    return bytes.isDestroyed();
  }

  @Override
  public String toString() {
    return "Kek[" + bytes.length() + " bytes" + (isDestroyed() ? ", destroyed]" : "]");
  }

  private void writeObject(ObjectOutputStream out) throws NotSerializableException {
    throw new NotSerializableException("key-encryption keys are never serialized");
  }
}
