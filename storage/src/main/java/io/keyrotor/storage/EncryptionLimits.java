package io.keyrotor.storage;

import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;

/**
 * How many encryptions one key version may perform, and how many it has used: a pure function of
 * the replicated record, the same on every replica.
 *
 * <p>Every encryption under a version draws a random 96-bit nonce under that version's
 * key-encryption key. NIST SP 800-38D (section 8.3) allows at most 2^32 invocations of AES-GCM with
 * random nonces under one key; past that the chance of a repeated nonce, which reveals the
 * authentication key, is no longer negligible. keyrotor's hard limit is half of that, {@link
 * #HARD_LIMIT} = 2^31: the chance of any repeated nonce among 2^31 random ones is below 2^-35, and
 * the count it is compared with is of <em>reserved</em> encryptions (an upper bound on those
 * performed), so no miscount can push a version past NIST's bound. A policy's {@code
 * max_encryptions} may lower the limit, never raise it (see {@link Validation#checkPolicy}).
 *
 * <p>What counts is {@link #counted}: the blocks the nodes reserved ({@code reserved_encryptions},
 * granted by ReserveEncryptions before the encryptions happen) plus the counts older nodes reported
 * after the fact ({@code encryptions}, from ReportUsage entries of older logs).
 */
public final class EncryptionLimits {
  /** NIST SP 800-38D's bound on AES-GCM invocations with random 96-bit nonces under one key. */
  public static final long NIST_RANDOM_NONCE_INVOCATIONS = 1L << 32;

  /** The most encryptions any version performs, and the default limit: 2^31. */
  public static final long HARD_LIMIT = NIST_RANDOM_NONCE_INVOCATIONS / 2;

  private EncryptionLimits() {}

  /** The encryption limit of every version of {@code key}: its policy's, or {@link #HARD_LIMIT}. */
  public static long limit(KeyRecord key) {
    long configured = key.getPolicy().getMaxEncryptions();
    // uint64 in the record: compare unsigned, so an out-of-range value still means "the bound".
    return configured == 0 || Long.compareUnsigned(configured, HARD_LIMIT) > 0
        ? HARD_LIMIT
        : configured;
  }

  /** The encryptions counted against {@code version}'s limit: reserved plus reported. */
  public static long counted(KeyVersionRecord version) {
    long reported = version.getEncryptions();
    long reserved = version.getReservedEncryptions();
    if (reported < 0 || reserved < 0) {
      return Long.MAX_VALUE; // beyond 2^63 as uint64: far past any limit
    }
    long sum = reported + reserved;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  /** How many more encryptions {@code version} of {@code key} may reserve (0 when exhausted). */
  public static long remaining(KeyRecord key, KeyVersionRecord version) {
    return Math.max(0, limit(key) - counted(version));
  }
}
