package io.keyrotor.server.dataplane;

import java.security.DrbgParameters;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The work of a data-plane call once it passed the barrier: data keys drawn, payloads sealed into
 * the {@link CiphertextFormat} envelope and envelopes opened, under the version and key-encryption
 * key the {@link KeyResolver} allows. Inputs are already validated; every seal first takes one of
 * the encryptions this node reserved under the version ({@link EncryptionReservations}), so no
 * version encrypts past its limit. Data keys and nonces come from a per-thread SHA-256 Hash_DRBG;
 * plaintext this class makes for itself is zeroed once sealed. Each ciphertext sealed, and each
 * moved by a re-encryption to another key or version, is counted in {@link DataKeyUsage}.
 */
final class Envelopes {
  private static final ThreadLocal<SecureRandom> RANDOM =
      ThreadLocal.withInitial(Envelopes::newRandom);

  private final KeyResolver resolver;
  private final EncryptionReservations reservations;
  private final DataKeyUsage usage;

  Envelopes(KeyResolver resolver, EncryptionReservations reservations, DataKeyUsage usage) {
    this.resolver = resolver;
    this.reservations = reservations;
    this.usage = usage;
  }

  /** A re-encryption, validated before the barrier. */
  // Carries bytes from a call to its answer; never compared, hashed or kept.
  @SuppressWarnings("ArrayRecordComponent")
  record ValidReEncryption(
      CiphertextFormat.Parsed source,
      byte[] sourceContext,
      String destinationKeyName,
      byte[] destinationContext) {}

  DataPlane.DataKey dataKey(
      String name, byte[] context, int length, boolean withPlaintext, boolean mayUnwrap)
      throws DataPlaneException {
    KeyResolver.Usable primary = resolver.forEncryption(name, mayUnwrap);
    reserve(primary);
    byte[] dataKey = new byte[length];
    RANDOM.get().nextBytes(dataKey);
    try {
      byte[] wrapped = seal(primary, context, dataKey);
      usage.issued(name, primary.version());
      return new DataPlane.DataKey(
          name, primary.version(), withPlaintext ? dataKey : null, wrapped);
    } finally {
      if (!withPlaintext) {
        Arrays.fill(dataKey, (byte) 0);
      }
    }
  }

  DataPlane.Encrypted encrypt(String name, byte[] context, byte[] plaintext, boolean mayUnwrap)
      throws DataPlaneException {
    KeyResolver.Usable primary = resolver.forEncryption(name, mayUnwrap);
    reserve(primary);
    byte[] ciphertext = seal(primary, context, plaintext);
    usage.issued(name, primary.version());
    return new DataPlane.Encrypted(name, primary.version(), ciphertext);
  }

  DataPlane.Decrypted decrypt(CiphertextFormat.Parsed parsed, byte[] context, boolean mayUnwrap)
      throws DataPlaneException {
    byte[] plaintext = open(parsed, context, mayUnwrap);
    return new DataPlane.Decrypted(parsed.keyName(), (int) parsed.keyVersion(), plaintext);
  }

  DataPlane.ReEncrypted reEncrypt(ValidReEncryption r, boolean mayUnwrap)
      throws DataPlaneException {
    byte[] plaintext = open(r.source(), r.sourceContext(), mayUnwrap);
    try {
      KeyResolver.Usable primary = resolver.forEncryption(r.destinationKeyName(), mayUnwrap);
      reserve(primary);
      byte[] ciphertext = seal(primary, r.destinationContext(), plaintext);
      countMove(r.source(), r.destinationKeyName(), primary.version());
      return new DataPlane.ReEncrypted(
          r.destinationKeyName(), (int) r.source().keyVersion(), primary.version(), ciphertext);
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  /**
   * Counts a re-encryption that moved a ciphertext to another key or version: issued under the
   * destination, rewrapped away from the source. One sealed again under its own version counts
   * neither.
   */
  private void countMove(CiphertextFormat.Parsed source, String destinationKey, int version) {
    int sourceVersion = (int) source.keyVersion();
    if (sourceVersion != version || !source.keyName().equals(destinationKey)) {
      usage.issued(destinationKey, version);
      usage.rewrappedAway(source.keyName(), sourceVersion);
    }
  }

  /** Authenticates and decrypts {@code parsed} if its key and version may decrypt here, now. */
  private byte[] open(CiphertextFormat.Parsed parsed, byte[] context, boolean mayUnwrap)
      throws DataPlaneException {
    Kek kek = resolver.forDecryption(parsed, mayUnwrap);
    try {
      return AesGcm.open(kek, parsed, context);
    } catch (IllegalStateException e) {
      throw evictedOr(kek, e);
    }
  }

  private byte[] seal(KeyResolver.Usable version, byte[] context, byte[] plaintext) {
    byte[] nonce = new byte[CiphertextFormat.NONCE_LENGTH];
    RANDOM.get().nextBytes(nonce);
    try {
      byte[] sealed =
          AesGcm.seal(
              version.kek(),
              version.keyName(),
              version.version(),
              nonce,
              context,
              plaintext,
              0,
              plaintext.length);
      return sealed;
    } catch (IllegalStateException e) {
      throw evictedOr(version.kek(), e);
    }
  }

  /** Takes one reserved encryption under {@code version}, before anything is sealed with it. */
  private void reserve(KeyResolver.Usable version) throws DataPlaneException {
    reservations.acquire(version.key(), version.record(), resolver.nowMillis());
  }

  private static RuntimeException evictedOr(Kek kek, IllegalStateException e) {
    return kek.isDestroyed() ? KekEvicted.INSTANCE : e;
  }

  private static SecureRandom newRandom() {
    try {
      return SecureRandom.getInstance(
          "DRBG", DrbgParameters.instantiation(256, DrbgParameters.Capability.RESEED_ONLY, null));
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }

  /** Thrown (preallocated) when the key-encryption key was zeroed by an eviction while in use. */
  static final class KekEvicted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    // A preallocated signal without a stack trace: thrown on the hot path, caught by the retry.
    @SuppressWarnings("StaticAssignmentOfThrowable")
    static final KekEvicted INSTANCE = new KekEvicted();

    private KekEvicted() {
      super("key-encryption key evicted while in use", null, false, false);
    }
  }
}
