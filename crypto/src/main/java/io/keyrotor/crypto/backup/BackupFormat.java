package io.keyrotor.crypto.backup;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The backup file, version 1 (every integer big-endian):
 *
 * <pre>
 * magic "KRBACKUP" (8 bytes) || format version (2 bytes)
 * header: length (4 bytes) || the header's fields, each string or byte string as length (4 bytes)
 *         || bytes: cluster, node, term (8), index (8), created millis (8), state digest (hex),
 *         audit head, signer key version (4), signer public key, count of digested families (4)
 *         || each family name
 * records, each: 0x01 || family (length 4 || UTF-8) || key (length 4 || bytes) || value (length 4
 *         || bytes)
 * end: 0x00 || record count (8)
 * signature: length (4) || SHA256withECDSA, IEEE P1363 (r || s)
 * </pre>
 *
 * The signature covers {@code "keyrotor-backup-v1" || 0x00 || SHA-256(every byte from the magic
 * through the record count)}, so an edited, dropped, added or reordered record, a changed header or
 * a cut tail all fail it. Independently of the signature, the verifier recomputes the state digest
 * from the records of the digested families and the audit head, the same sum every node keeps
 * ({@code storage}'s {@code StateDigest}), and compares it with the header's.
 */
public final class BackupFormat {
  /** The file's first bytes. */
  public static final byte[] MAGIC = "KRBACKUP".getBytes(StandardCharsets.US_ASCII);

  /** The only format version this code writes and reads. */
  public static final int VERSION = 1;

  /** Marks a record; {@link #END} marks the end of the records. */
  static final int RECORD = 1;

  static final int END = 0;

  /** The largest header, family name, key or value a reader accepts (a bound on bad input). */
  static final int MAX_FIELD_BYTES = 16 << 20;

  private static final byte[] SIGNATURE_DOMAIN =
      "keyrotor-backup-v1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DIGEST_DOMAIN =
      "keyrotor-state-digest-v1".getBytes(StandardCharsets.UTF_8);
  private static final BigInteger MODULUS = BigInteger.ONE.shiftLeft(256);

  private BackupFormat() {}

  /** The message the signature covers, given the SHA-256 of the file up to the signature. */
  public static byte[] signedMessage(byte[] contentHash) {
    byte[] message = new byte[SIGNATURE_DOMAIN.length + 1 + contentHash.length];
    System.arraycopy(SIGNATURE_DOMAIN, 0, message, 0, SIGNATURE_DOMAIN.length);
    System.arraycopy(contentHash, 0, message, SIGNATURE_DOMAIN.length + 1, contentHash.length);
    return message;
  }

  /** A new SHA-256 digest (every Java platform has one). */
  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java platform", e);
    }
  }

  /**
   * The state digest's running sum over (family, key, value) entries: the sum modulo 2^256 of
   * SHA-256(family name || 0x00 || key length (4) || key || value), reported as SHA-256 over a
   * domain tag, the sum (32 bytes) and the audit head, in hex.
   */
  static final class DigestSum {
    private BigInteger sum = BigInteger.ZERO;

    void add(String family, byte[] key, byte[] value) {
      MessageDigest sha = sha256();
      sha.update(family.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(
          new byte[] {
            (byte) (key.length >>> 24),
            (byte) (key.length >>> 16),
            (byte) (key.length >>> 8),
            (byte) key.length
          });
      sha.update(key);
      sha.update(value);
      sum = sum.add(new BigInteger(1, sha.digest())).mod(MODULUS);
    }

    String report(byte[] auditHead) {
      byte[] raw = sum.toByteArray();
      byte[] sumBytes = new byte[32];
      int copy = Math.min(raw.length, 32);
      System.arraycopy(raw, raw.length - copy, sumBytes, 32 - copy, copy);
      MessageDigest sha = sha256();
      sha.update(DIGEST_DOMAIN);
      sha.update(sumBytes);
      sha.update(auditHead);
      return HexFormat.of().formatHex(sha.digest());
    }
  }
}
