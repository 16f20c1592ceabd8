package io.keyrotor.client.envelope;

import io.keyrotor.crypto.SecretBytes;
import java.util.Objects;

/**
 * A data key as the SDK holds it: the 256-bit plaintext key in {@link SecretBytes} (read only
 * through {@code revealCopy}, zeroed by {@link #destroy()}), its wrapped form (an opaque server
 * ciphertext) and the key name and version the server reported. No {@code toString} that could
 * print key bytes; not shared between threads once handed out.
 */
final class DataKey {

  /** AES-256. */
  static final int KEY_BYTES = 32;

  private final SecretBytes key;
  private final byte[] wrapped;
  private final String keyName;
  private final int keyVersion;

  /** Takes ownership of {@code key} (closed by {@link #destroy()}); {@code wrapped} is copied. */
  DataKey(SecretBytes key, byte[] wrapped, String keyName, int keyVersion) {
    this.key = Objects.requireNonNull(key, "key");
    this.wrapped = wrapped.clone();
    this.keyName = Objects.requireNonNull(keyName, "keyName");
    this.keyVersion = keyVersion;
  }

  /** The plaintext key, still owned by this data key (the caller never closes it). */
  SecretBytes key() {
    return key;
  }

  /** The wrapped form (not a copy: do not modify). */
  byte[] wrapped() {
    return wrapped;
  }

  String keyName() {
    return keyName;
  }

  int keyVersion() {
    return keyVersion;
  }

  /** An independent copy, to be destroyed separately. */
  DataKey copy() {
    return new DataKey(key.copy(), wrapped, keyName, keyVersion);
  }

  /** Overwrites the key bytes with zeros. Idempotent. */
  void destroy() {
    key.close();
  }

  /** Whether {@link #destroy()} was called. */
  boolean isDestroyed() {
    return key.isDestroyed();
  }

  @Override
  public String toString() {
    return "DataKey{" + keyName + " v" + keyVersion + ", key bytes hidden}";
  }
}
