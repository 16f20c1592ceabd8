package io.keyrotor.hsm;

import io.keyrotor.crypto.SecretBytes;
import java.util.Arrays;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Plaintext key bytes that cross the HSM boundary (a key-encryption key to wrap, one just
 * unwrapped, a zone master key of the software HSM): a {@link SecretBytes}, with all of its
 * guarantees. The bytes are read only through {@link #revealCopy()}; {@code toString} prints a
 * fixed redacted text; {@code equals} is constant-time; {@link #close()} (or {@link #destroy()})
 * zeroes them. Owners close it as soon as they are done.
 *
 * <p>It adds one thing: {@link #toAesKey()}, the bridge to JCE providers that take a {@link
 * SecretKey}.
 */
public final class SecretKeyBytes extends SecretBytes {

  private SecretKeyBytes(byte[] bytes) {
    super(bytes);
  }

  /** Takes ownership of {@code bytes} (the caller must neither keep, change nor zero them). */
  public static SecretKeyBytes takeOwnership(byte[] bytes) {
    return new SecretKeyBytes(bytes);
  }

  /** A copy of {@code bytes}; the caller still owns (and should zero) its array. */
  public static SecretKeyBytes copyOf(byte[] bytes) {
    return new SecretKeyBytes(bytes.clone());
  }

  /**
   * The bytes as a JCE AES key. The {@link SecretKeySpec} keeps its own copy, which cannot be
   * zeroed: use it for one operation and let it go.
   *
   * @throws IllegalStateException if this was closed
   */
  public SecretKey toAesKey() {
    byte[] bytes = revealCopy();
    try {
      return new SecretKeySpec(bytes, "AES");
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }
}
