package io.keyrotor.hsm;

import java.util.Collections;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The boundary to a node's hardware security module.
 *
 * <p>A zone master key (ZMK) never leaves the HSM: key-encryption keys (KEKs) are wrapped and
 * unwrapped inside it, and only wrapped bytes cross this interface outwards. Implementations are
 * thread-safe. Every failure is an {@link HsmException} with a {@link HsmException.Reason}; no
 * exception message ever contains key material.
 */
public interface Hsm extends AutoCloseable {

  /** What this HSM is: kind, module, token and the wrapping mechanisms in use. */
  HsmDescription describe();

  /** Zones whose master key this HSM holds (at any version), sorted. */
  Set<String> zones();

  /**
   * The newest master key version of {@code zone}, the one {@link #wrap} uses.
   *
   * @throws HsmException with {@code ZONE_NOT_HELD} if this HSM has no master key for the zone
   */
  int currentZoneMasterKeyVersion(String zone) throws HsmException;

  /**
   * Wraps {@code key} under the current master key of {@code zone}, with the strongest mechanism
   * this HSM supports. The caller keeps ownership of {@code key}.
   */
  WrappedKey wrap(String zone, SecretKeyBytes key) throws HsmException;

  /**
   * Wraps {@code key} under one given master key version of {@code zone} (a zone master key
   * rotation moves KEKs to exactly the version it targets, even if a newer one exists).
   *
   * <p>The default supports only the newest version ({@link #currentZoneMasterKeyVersion}); both
   * implementations here support every version they hold.
   *
   * @throws HsmException with {@code ZONE_NOT_HELD} if this HSM lacks that version
   */
  default WrappedKey wrap(String zone, int zoneMasterKeyVersion, SecretKeyBytes key)
      throws HsmException {
    if (currentZoneMasterKeyVersion(zone) != zoneMasterKeyVersion) {
      throw new HsmException(
          HsmException.Reason.UNSUPPORTED_MECHANISM,
          "this HSM wraps only under the newest master key version of a zone");
    }
    return wrap(zone, key);
  }

  /**
   * Every master key version this HSM holds, by zone. The default lists only the newest version of
   * each zone.
   */
  default SortedMap<String, SortedSet<Integer>> zoneMasterKeyVersions() throws HsmException {
    SortedMap<String, SortedSet<Integer>> out = new TreeMap<>();
    for (String zone : zones()) {
      out.put(
          zone,
          Collections.unmodifiableSortedSet(
              new TreeSet<>(Set.of(currentZoneMasterKeyVersion(zone)))));
    }
    return Collections.unmodifiableSortedMap(out);
  }

  /**
   * Checks that the HSM still answers (a cheap call into the module or key file) and returns
   * whether it is healthy; {@link #describe()} reports the same from then on. Never throws.
   */
  default boolean checkHealth() {
    try {
      randomBytes(1);
      zones();
    } catch (HsmException e) {
      // describe() says what it thinks
    }
    return describe().healthy();
  }

  /**
   * Unwraps a key wrapped by any HSM that holds the same zone master key version, with the
   * mechanism recorded in {@code wrapped}. The caller owns (and must destroy) the result.
   *
   * @throws HsmException with {@code UNWRAP_FAILED} if the bytes fail their integrity check
   *     (tampered, wrong zone or wrong master key version), never silently another key
   */
  SecretKeyBytes unwrap(WrappedKey wrapped) throws HsmException;

  /**
   * The key check value of a master key version: AES-ECB encryption of a zero block, first 3 bytes
   * in hex (see {@link ZoneMasterKeys#formatCheckValue}). Operators compare it across nodes to
   * confirm they hold the same key; it reveals nothing usable about the key.
   *
   * @throws HsmException with {@code ZONE_NOT_HELD} if this HSM has no such version
   */
  default String keyCheckValue(String zone, int version) throws HsmException {
    throw new HsmException(
        HsmException.Reason.UNSUPPORTED_MECHANISM, "this HSM does not compute key check values");
  }

  /**
   * The versions of this HSM's audit signing key (ECDSA P-256, see {@link AuditSigningKeys}),
   * oldest first; empty when none was generated. The default holds none.
   */
  default SortedSet<Integer> auditKeyVersions() throws HsmException {
    return Collections.emptySortedSet();
  }

  /**
   * Generates the next audit key version (the newest plus one, or 1) inside the HSM and returns its
   * version; the private key never leaves the HSM.
   *
   * @throws HsmException {@code UNSUPPORTED_MECHANISM} when this HSM cannot hold signing keys
   */
  default int generateAuditKey() throws HsmException {
    throw new HsmException(
        HsmException.Reason.UNSUPPORTED_MECHANISM, "this HSM holds no audit signing keys");
  }

  /**
   * The public key of audit key {@code version}, as an X.509 SubjectPublicKeyInfo (DER).
   *
   * @throws HsmException {@code INVALID_REQUEST} when this HSM holds no such version
   */
  default byte[] auditPublicKey(int version) throws HsmException {
    throw AuditSigningKeys.notHeld(toString(), version);
  }

  /**
   * Signs {@code message} (1 to {@link AuditSigningKeys#MAX_MESSAGE_BYTES} bytes) with audit key
   * {@code version}: SHA256withECDSA, IEEE P1363 form (r || s, 64 bytes).
   */
  default byte[] signAudit(int version, byte[] message) throws HsmException {
    throw AuditSigningKeys.notHeld(toString(), version);
  }

  /** Random bytes from the HSM's generator (or the platform's strong CSPRNG in software). */
  byte[] randomBytes(int count) throws HsmException;

  /** Releases sessions and handles. Never throws. */
  @Override
  void close();
}
