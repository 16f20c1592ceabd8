package io.keyrotor.crypto;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.StampedLock;
import javax.security.auth.Destroyable;

/**
 * Key bytes in memory, after Tink's {@code SecretBytes}: an immutable value whose bytes are reached
 * only through {@link #revealCopy()}, so every place that handles the plaintext key can be found by
 * searching for that one name.
 *
 * <p>Security guarantees:
 *
 * <ul>
 *   <li><b>No accidental disclosure.</b> {@link #toString()} prints a fixed redacted text, and
 *       {@link #hashCode()} is the same for every instance, so neither a log line, an exception
 *       message nor a hash table reveals anything about the bytes (not even their length).
 *   <li><b>Constant-time equality.</b> {@link #equals(Object)} compares with {@link
 *       MessageDigest#isEqual}, whose running time does not depend on where two keys first differ.
 *   <li><b>Zeroed on close.</b> {@link #close()} (or {@link #destroy()}, the same) overwrites the
 *       bytes with zeros; afterwards every use of the bytes throws {@link IllegalStateException}. A
 *       copy that raced the close is zeroed and refused, so a caller never receives a half-zeroed
 *       key.
 *   <li><b>Immutable.</b> The bytes never change until they are zeroed; {@link #revealCopy()} hands
 *       out copies, never the array itself.
 * </ul>
 *
 * <p>What it cannot do: copies given out by {@link #revealCopy()} belong to the caller, who zeroes
 * them; copies that the JDK's providers make (an expanded AES key schedule inside a {@code Cipher})
 * are out of reach and become garbage. The Java heap may also have moved the array before it was
 * zeroed.
 *
 * <p>Thread-safe. Reading the bytes takes no lock shared between readers (an optimistic read that
 * is retried under a read lock only if a {@link #close()} interfered).
 *
 * <p>Open for subtypes that name a kind of key (the HSM's {@code SecretKeyBytes}); every method
 * that touches the bytes is final, so no subtype can weaken these guarantees.
 */
public class SecretBytes implements AutoCloseable, Destroyable {

  /** What {@link #toString()} prints, for every instance. */
  public static final String REDACTED = "SecretBytes[redacted]";

  /** What {@link #hashCode()} returns, for every instance. */
  private static final int SAME_HASH_FOR_ALL = 0x5EC2E7;

  private final byte[] bytes;
  private final StampedLock lock = new StampedLock();

  /** Written only under the write lock; read inside an optimistic read or a read lock. */
  private boolean closed;

  /**
   * Takes ownership of {@code bytes}: the caller must neither keep, change nor zero the array.
   *
   * @throws NullPointerException if {@code bytes} is null
   */
  protected SecretBytes(byte[] bytes) {
    this.bytes = Objects.requireNonNull(bytes, "bytes");
  }

  /**
   * Holds {@code bytes} without copying them: the caller hands the array over and must neither
   * keep, change nor zero it. For arrays that were just made to hold a key (decrypted, unwrapped,
   * generated), so that no second copy exists.
   */
  public static SecretBytes takeOwnership(byte[] bytes) {
    return new SecretBytes(bytes);
  }

  /** Holds a copy of {@code bytes}; the caller still owns (and should zero) its array. */
  public static SecretBytes copyOf(byte[] bytes) {
    return new SecretBytes(bytes.clone());
  }

  /** The number of bytes held (also after {@link #close()}: a length is not a secret). */
  public final int length() {
    return bytes.length;
  }

  /**
   * A fresh copy of the secret bytes, for the caller to use and then zero ({@code Arrays.fill(copy,
   * (byte) 0)}). The one way to read them: its name makes every such place visible.
   *
   * @throws IllegalStateException if this was closed, also when the close raced this call
   */
  public final byte[] revealCopy() {
    long stamp = lock.tryOptimisticRead();
    if (stamp != 0 && !closed) {
      byte[] copy = bytes.clone();
      if (lock.validate(stamp)) {
        return copy;
      }
      Arrays.fill(copy, (byte) 0); // a close() interfered: the copy may be partly zeroed
    }
    stamp = lock.readLock();
    try {
      checkOpen();
      return bytes.clone();
    } finally {
      lock.unlockRead(stamp);
    }
  }

  /**
   * An independent holder of the same bytes, to be closed separately (a cache hands one to each
   * caller, so that evicting the cached key never zeroes a key that is still in use).
   *
   * @throws IllegalStateException if this was closed
   */
  public final SecretBytes copy() {
    return new SecretBytes(revealCopy());
  }

  /** Overwrites the bytes with zeros; from now on they cannot be read. Idempotent. */
  @Override
  public final void close() {
    long stamp = lock.writeLock();
    try {
      closed = true;
      Arrays.fill(bytes, (byte) 0);
    } finally {
      lock.unlockWrite(stamp);
    }
  }

  /** The same as {@link #close()}: the JDK's name for it ({@link Destroyable}). */
  @Override
  public final void destroy() {
    close();
  }

  /** Whether {@link #close()} was called. */
  @Override
  public final boolean isDestroyed() {
    long stamp = lock.readLock();
    try {
      return closed;
    } finally {
      lock.unlockRead(stamp);
    }
  }

  /**
   * Whether {@code other} is a {@link SecretBytes} holding the same bytes, compared in time that
   * does not depend on where they differ ({@link MessageDigest#isEqual}). An instance equals itself
   * even after {@link #close()}.
   *
   * @throws IllegalStateException if two different instances are compared and one was closed
   */
  @Override
  public final boolean equals(Object other) {
    if (this == other) {
      return true;
    }
    if (!(other instanceof SecretBytes that)) {
      return false;
    }
    byte[] mine = revealCopy();
    byte[] theirs = null;
    try {
      theirs = that.revealCopy();
      return MessageDigest.isEqual(mine, theirs);
    } finally {
      Arrays.fill(mine, (byte) 0);
      if (theirs != null) {
        Arrays.fill(theirs, (byte) 0);
      }
    }
  }

  /** The same for every instance, so that it reveals nothing about the bytes. */
  @Override
  public final int hashCode() {
    return SAME_HASH_FOR_ALL;
  }

  /** Always {@link #REDACTED}. */
  @Override
  public final String toString() {
    return REDACTED;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the secret bytes were closed (zeroed) and cannot be used");
    }
  }
}
