package io.keyrotor.storage;

import io.keyrotor.storage.schema.Schema;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * An incremental, order-independent hash over the replicated state: the sum modulo 2^256 of
 * SHA-256(family, key, value) over every entry of the digested column families. Adding and removing
 * an entry costs one hash, so every command keeps it current in O(1), and any replica can report
 * it. The reported digest also covers the audit chain head.
 *
 * <p>Its mutators are public for the store's pieces in sub-packages (the write batch, the meta
 * values, the audit chain); nothing outside the storage module holds an instance.
 */
public final class StateDigest {
  private static final BigInteger MODULUS = BigInteger.ONE.shiftLeft(256);
  private static final byte[] DOMAIN = "keyrotor-state-digest-v1".getBytes(StandardCharsets.UTF_8);

  private BigInteger sum;

  StateDigest(BigInteger sum) {
    this.sum = sum;
  }

  /** The digest of an empty state. */
  public static StateDigest empty() {
    return new StateDigest(BigInteger.ZERO);
  }

  /** The digest stored as {@link #toBytes()}; null (nothing stored yet) is the empty digest. */
  public static StateDigest fromBytes(byte[] bytes) {
    return new StateDigest(bytes == null ? BigInteger.ZERO : new BigInteger(1, bytes));
  }

  /** Adds the entry ({@code family}, {@code key}, {@code value}). */
  public void add(Schema family, byte[] key, byte[] value) {
    sum = sum.add(entryHash(family, key, value)).mod(MODULUS);
  }

  /** Removes the entry ({@code family}, {@code key}, {@code value}), which must have been added. */
  public void remove(Schema family, byte[] key, byte[] value) {
    sum = sum.subtract(entryHash(family, key, value)).mod(MODULUS);
  }

  /** An independent copy. */
  StateDigest copy() {
    return new StateDigest(sum);
  }

  /** The sum, 32 bytes big-endian: how it is stored. */
  public byte[] toBytes() {
    byte[] raw = sum.toByteArray();
    byte[] out = new byte[32];
    int copy = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - copy, out, 32 - copy, copy);
    return out;
  }

  /** The digest as reported to operators: SHA-256 over the sum and the audit chain head, hex. */
  String report(byte[] auditHead) {
    MessageDigest sha = sha256();
    sha.update(DOMAIN);
    sha.update(toBytes());
    sha.update(auditHead);
    return HexFormat.of().formatHex(sha.digest());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StateDigest other && sum.equals(other.sum);
  }

  @Override
  public int hashCode() {
    return sum.hashCode();
  }

  private static BigInteger entryHash(Schema family, byte[] key, byte[] value) {
    MessageDigest sha = sha256();
    sha.update(family.columnFamilyNameBytes());
    sha.update((byte) 0);
    sha.update(intBytes(key.length));
    sha.update(key);
    sha.update(value);
    return new BigInteger(1, sha.digest());
  }

  private static byte[] intBytes(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  /** A new SHA-256 digest (required by every Java platform). */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
  }
}
