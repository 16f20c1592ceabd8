package io.keyrotor.storage;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.util.Optional;

/**
 * Which version of a key may be used for what at a given time: the rules of the data plane, beside
 * {@link KeyVersions} (which says what each version <em>is</em> at that time). A pure function of
 * the replicated record and the time, so every replica that asks about the same time answers the
 * same.
 *
 * <ul>
 *   <li><b>Encryption</b> (Encrypt, GenerateDataKey, and the destination of a re-encryption) uses
 *       the key's primary at t and nothing else. Refused when the key has no primary yet ({@link
 *       ErrorReason#NO_PRIMARY_VERSION}: its first version is still pending) or when the primary is
 *       below the key's minimum encryption version ({@link
 *       ErrorReason#BELOW_MIN_ENCRYPTION_VERSION}).
 *   <li><b>Decryption</b> (Decrypt, and the source of a re-encryption) uses the version a
 *       ciphertext names, if it is PRIMARY or DECRYPT_ONLY at t. Refused when the key has no such
 *       version ({@link ErrorReason#VERSION_NOT_FOUND}), when it is below the key's minimum
 *       decryption version ({@link ErrorReason#BELOW_MIN_DECRYPTION_VERSION}), and when it is
 *       pending, disabled, scheduled for destruction, destroyed or cancelled (the matching {@code
 *       VERSION_...} reason).
 *   <li><b>Re-encryption</b> is a decryption under the source version followed by an encryption
 *       under the destination key's primary; both rules apply ({@link #reEncryption}).
 *   <li>A version without key material is never used ({@link ErrorReason#VERSION_DESTROYED}).
 * </ul>
 *
 * {@link #mayStillBeUsed} is the time-independent part: whether a version can be used at some time
 * from now on, which decides whether a cached key-encryption key is worth keeping.
 */
public final class VersionUse {
  private VersionUse() {}

  /**
   * The answer to "may this version be used so, now?": the version, or why not.
   *
   * @param version the version asked about (0 when the key has no primary)
   * @param recordOrNull the version's record when the use is allowed, else null
   * @param refusalOrNull why the use is refused, or null when it is allowed
   * @param explanation a sentence naming the key and version and why the use is refused (empty when
   *     allowed); never key material
   */
  public record Verdict(
      String keyName,
      long version,
      KeyVersionRecord recordOrNull,
      ErrorReason refusalOrNull,
      String explanation) {

    /** Whether the use is allowed ({@link #recordOrNull()} is then the version to use). */
    public boolean isAllowed() {
      return refusalOrNull == null;
    }

    static Verdict allowed(KeyRecord key, KeyVersionRecord version) {
      return new Verdict(key.getName(), version.getVersion(), version, null, "");
    }

    static Verdict refused(KeyRecord key, long version, ErrorReason reason, String what) {
      return new Verdict(
          key.getName(),
          version,
          null,
          reason,
          "version " + version + " of key \"" + key.getName() + "\" " + what);
    }
  }

  /**
   * The uses of one re-encryption: the source version decrypts, the destination's primary seals.
   */
  public record ReEncryption(Verdict source, Verdict destination) {
    /** The first refusal (the source's before the destination's), if any. */
    public Optional<Verdict> refusal() {
      if (!source.isAllowed()) {
        return Optional.of(source);
      }
      return destination.isAllowed() ? Optional.empty() : Optional.of(destination);
    }
  }

  /** Which version of {@code key} encrypts at {@code timeMillis}: its primary, if that may. */
  public static Verdict encryption(KeyRecord key, long timeMillis) {
    int primary = KeyVersions.primaryVersionAt(key, timeMillis);
    if (primary == 0) {
      return new Verdict(
          key.getName(),
          0,
          null,
          ErrorReason.NO_PRIMARY_VERSION,
          "key \"" + key.getName() + "\" has no primary version yet (its first is still pending)");
    }
    if (primary < key.getMinEncryptionVersion()) {
      return Verdict.refused(
          key,
          primary,
          ErrorReason.BELOW_MIN_ENCRYPTION_VERSION,
          "is below the key's minimum encryption version " + key.getMinEncryptionVersion());
    }
    KeyVersionRecord version = KeyVersions.find(key, primary).orElseThrow();
    KeyVersionState state = KeyVersions.stateAt(key, version, timeMillis);
    if (state != KeyVersionState.KEY_VERSION_STATE_PRIMARY) {
      return refusedFor(key, primary, state);
    }
    return withMaterial(key, version);
  }

  /** Whether version {@code number} of {@code key} may decrypt at {@code timeMillis}. */
  public static Verdict decryption(KeyRecord key, long number, long timeMillis) {
    Optional<KeyVersionRecord> found = KeyVersions.find(key, number);
    if (found.isEmpty()) {
      return new Verdict(
          key.getName(),
          number,
          null,
          ErrorReason.VERSION_NOT_FOUND,
          "key \"" + key.getName() + "\" has no version " + number);
    }
    KeyVersionRecord version = found.get();
    if (version.getVersion() < key.getMinDecryptionVersion()) {
      return Verdict.refused(
          key,
          version.getVersion(),
          ErrorReason.BELOW_MIN_DECRYPTION_VERSION,
          "is below the key's minimum decryption version " + key.getMinDecryptionVersion());
    }
    KeyVersionState state = KeyVersions.stateAt(key, version, timeMillis);
    if (state != KeyVersionState.KEY_VERSION_STATE_PRIMARY
        && state != KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY) {
      return refusedFor(key, version.getVersion(), state);
    }
    return withMaterial(key, version);
  }

  /**
   * A re-encryption at {@code timeMillis}: version {@code sourceVersion} of {@code source} decrypts
   * and {@code destination}'s primary encrypts.
   */
  public static ReEncryption reEncryption(
      KeyRecord source, long sourceVersion, KeyRecord destination, long timeMillis) {
    return new ReEncryption(
        decryption(source, sourceVersion, timeMillis), encryption(destination, timeMillis));
  }

  /**
   * Whether {@code version} can be used at some time from now on: enabled and not below the key's
   * minimum decryption version. A version that fails this never becomes usable again by the passing
   * of time (only by a command: an enable, or a lowered floor), so nothing it keyed needs caching.
   */
  public static boolean mayStillBeUsed(KeyRecord key, KeyVersionRecord version) {
    return version.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
        && version.getVersion() >= key.getMinDecryptionVersion();
  }

  private static Verdict withMaterial(KeyRecord key, KeyVersionRecord version) {
    if (!version.hasKek()) {
      return Verdict.refused(
          key, version.getVersion(), ErrorReason.VERSION_DESTROYED, "has no key");
    }
    return Verdict.allowed(key, version);
  }

  private static Verdict refusedFor(KeyRecord key, int version, KeyVersionState state) {
    return switch (state) {
      case KEY_VERSION_STATE_PENDING ->
          Verdict.refused(
              key,
              version,
              ErrorReason.VERSION_PENDING,
              "is pending: its activation time has not come");
      case KEY_VERSION_STATE_DISABLED ->
          Verdict.refused(key, version, ErrorReason.VERSION_DISABLED, "is disabled");
      case KEY_VERSION_STATE_DESTROY_SCHEDULED ->
          Verdict.refused(
              key, version, ErrorReason.VERSION_DESTROY_SCHEDULED, "is scheduled for destruction");
      case KEY_VERSION_STATE_DESTROYED ->
          Verdict.refused(key, version, ErrorReason.VERSION_DESTROYED, "has been destroyed");
      case KEY_VERSION_STATE_CANCELLED ->
          Verdict.refused(
              key, version, ErrorReason.VERSION_CANCELLED, "was cancelled before it activated");
      default -> Verdict.refused(key, version, ErrorReason.VERSION_DISABLED, "cannot be used now");
    };
  }
}
