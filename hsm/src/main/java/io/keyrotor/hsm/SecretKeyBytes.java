package io.keyrotor.hsm;

import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Plaintext key bytes in memory: no {@code toString} content, constant-time equality, and zeroed by
 * {@link #destroy()}. Owners destroy it as soon as they are done.
 */
public final class SecretKeyBytes implements AutoCloseable {
  private final byte[] bytes;
  private volatile boolean destroyed;

  private SecretKeyBytes(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Takes ownership of {@code bytes} (the caller must not keep or zero them). */
  public static SecretKeyBytes takeOwnership(byte[] bytes) {
    return new SecretKeyBytes(bytes);
  }

  /** A copy of {@code bytes}; the caller still owns (and should zero) its array. */
  public static SecretKeyBytes copyOf(byte[] bytes) {
    return new SecretKeyBytes(bytes.clone());
  }

  public int length() {
    return bytes.length;
  }

  /** A copy of the bytes; the caller must zero it when done. */
  public byte[] copyBytes() {
    checkNotDestroyed();
    return bytes.clone();
  }

  /** The bytes as a JCE AES key (the JCE copies them). */
  public SecretKey toAesKey() {
    checkNotDestroyed();
    return new SecretKeySpec(bytes, "AES");
  }

  /** Zeroes the bytes. Idempotent. */
  public void destroy() {
    Arrays.fill(bytes, (byte) 0);
    destroyed = true;
  }

  public boolean isDestroyed() {
    return destroyed;
  }

  @Override
  public void close() {
    destroy();
  }

  /** Constant-time comparison. */
  public boolean equalsSecret(SecretKeyBytes other) {
    checkNotDestroyed();
    return MessageDigest.isEqual(bytes, other.bytes);
  }

  @Override
  public String toString() {
    return "SecretKeyBytes[" + bytes.length + " bytes]";
  }

  private void checkNotDestroyed() {
    if (destroyed) {
      throw new IllegalStateException("key bytes were destroyed");
    }
  }
}
