package io.keyrotor.server.dataplane;

import io.keyrotor.crypto.SecretBytes;
import io.keyrotor.hsm.SecretKeyBytes;

/**
 * An unwrapped key-encryption key held by the {@link KekCache}: it owns the {@link SecretKeyBytes}
 * the HSM returned, and hands them to {@link AesGcm} only. {@link #destroy()} zeroes them; a seal
 * or open that raced it fails with {@link IllegalStateException} and never uses a half-zeroed key
 * (the data plane then looks the key up again).
 *
 * <p>Its {@code toString} shows the length only; identity equality; not a JCE key and not
 * serializable.
 */
final class Kek {
  private final SecretKeyBytes bytes;

  /** Takes ownership of {@code bytes} (zeroed by {@link #destroy()}). */
  Kek(SecretKeyBytes bytes) {
    this.bytes = bytes;
  }

  /** The key for AesGcm. Still owned by this Kek: never closed by the caller. */
  SecretBytes secretBytes() {
    return bytes;
  }

  /** Zeroes the key bytes. Idempotent. */
  void destroy() {
    bytes.close();
  }

  boolean isDestroyed() {
    return bytes.isDestroyed();
  }

  @Override
  public String toString() {
    return "Kek[" + bytes.length() + " bytes" + (isDestroyed() ? ", destroyed]" : "]");
  }
}
