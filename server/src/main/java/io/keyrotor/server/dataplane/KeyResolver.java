package io.keyrotor.server.dataplane;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.KeyVersions;
import io.keyrotor.storage.VersionUse;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What a data-plane call may use, read from the applied state after the barrier: the key (refused
 * unless this node holds its zone), the version {@link VersionUse} allows for the use at the node's
 * clock, and that version's unwrapped key-encryption key from the {@link KekCache}. It decides
 * nothing itself: every refusal is storage's version rule or the zone this node holds, as a {@link
 * DataPlaneException} with the key (and version) in its metadata.
 */
final class KeyResolver {
  private final Function<String, Optional<KeyRecord>> keys;
  private final Set<String> zones;
  private final KekCache keks;
  private final Clock clock;

  /**
   * @param keys a key by name from the applied state (read after the barrier)
   * @param zones the zones this node serves: its configured zones (all held by its HSM)
   * @param keks the cache of unwrapped key-encryption keys
   * @param clock the clock at which version states are evaluated
   */
  KeyResolver(
      Function<String, Optional<KeyRecord>> keys, Set<String> zones, KekCache keks, Clock clock) {
    this.keys = keys;
    this.zones = Set.copyOf(zones);
    this.keks = keks;
    this.clock = clock;
  }

  /**
   * A version of a key with its unwrapped key-encryption key (owned by the cache), and the records
   * it was resolved from (as applied when the call passed the barrier).
   */
  record Usable(String keyName, int version, Kek kek, KeyRecord key, KeyVersionRecord record) {}

  /**
   * The version new encryptions of {@code keyName} use now (its primary, if it may encrypt), with
   * its KEK: cached, or unwrapped if {@code mayUnwrap} (otherwise {@link NeedsUnwrap}).
   */
  Usable forEncryption(String keyName, boolean mayUnwrap) throws DataPlaneException {
    KeyRecord key = servedKey(keyName);
    KeyVersionRecord primary = allowed(VersionUse.encryption(key, clock.millis()));
    return new Usable(keyName, primary.getVersion(), kek(key, primary, mayUnwrap), key, primary);
  }

  /**
   * The KEK of the version a ciphertext names, if it may decrypt now. A key or version that does
   * not exist is {@link ErrorReason#INVALID_CIPHERTEXT} (the caller named neither), not NOT_FOUND.
   */
  Kek forDecryption(CiphertextFormat.Parsed parsed, boolean mayUnwrap) throws DataPlaneException {
    Optional<KeyRecord> found = keys.apply(parsed.keyName());
    if (found.isEmpty()) {
      throw new DataPlaneException(
          ErrorReason.INVALID_CIPHERTEXT,
          "the ciphertext names key \"" + parsed.keyName() + "\", which does not exist",
          Map.of("problem", "UNKNOWN_KEY", "key", parsed.keyName()));
    }
    KeyRecord key = found.get();
    checkZone(key);
    KeyVersionRecord version = decryptingVersion(key, parsed.keyVersion());
    return kek(key, version, mayUnwrap);
  }

  /**
   * Drops (and zeroes) cached key-encryption keys of versions that can no longer be used.
   *
   * @see DataPlane#dropUnusableKeks()
   */
  void dropUnusableKeks() {
    keks.retainUsable(this::stillUsable);
  }

  /** Whether version {@code version} of {@code keyName} is its primary or newer now. */
  boolean mayStillEncrypt(String keyName, int version) {
    return keys.apply(keyName)
        .map(key -> version >= KeyVersions.primaryVersionAt(key, clock.millis()))
        .orElse(false);
  }

  /** Whether version {@code version} of key {@code keyName} exists and is not destroyed. */
  boolean versionExists(String keyName, int version) {
    return keys.apply(keyName)
        .flatMap(key -> KeyVersions.find(key, version))
        .map(v -> v.getStatus() != VersionStatus.VERSION_STATUS_DESTROYED)
        .orElse(false);
  }

  /** The clock at which version states are evaluated. */
  long nowMillis() {
    return clock.millis();
  }

  /** The key, if it exists and this node holds its zone. */
  private KeyRecord servedKey(String name) throws DataPlaneException {
    Optional<KeyRecord> found = keys.apply(name);
    if (found.isEmpty()) {
      throw new DataPlaneException(
          ErrorReason.KEY_NOT_FOUND, "key \"" + name + "\" not found", Map.of("key", name));
    }
    checkZone(found.get());
    return found.get();
  }

  private void checkZone(KeyRecord key) throws DataPlaneException {
    if (!zones.contains(key.getZone())) {
      throw new DataPlaneException(
          ErrorReason.ZONE_NOT_HELD,
          "this node does not hold zone \"" + key.getZone() + "\" of key \"" + key.getName() + "\"",
          Map.of("zone", key.getZone(), "key", key.getName()));
    }
  }

  /** The version a ciphertext names, if it may decrypt now. */
  private KeyVersionRecord decryptingVersion(KeyRecord key, long number) throws DataPlaneException {
    VersionUse.Verdict verdict = VersionUse.decryption(key, number, clock.millis());
    if (verdict.refusalOrNull() == ErrorReason.VERSION_NOT_FOUND) {
      throw new DataPlaneException(
          ErrorReason.INVALID_CIPHERTEXT,
          "the ciphertext names version "
              + number
              + " of key \""
              + key.getName()
              + "\", which"
              + " does not exist",
          Map.of("problem", "UNKNOWN_VERSION", "key", key.getName(), "version", "" + number));
    }
    return allowed(verdict);
  }

  /** The version {@code verdict} allows, or the refusal it gives (metadata: key and version). */
  private static KeyVersionRecord allowed(VersionUse.Verdict verdict) throws DataPlaneException {
    if (verdict.isAllowed()) {
      return verdict.recordOrNull();
    }
    throw new DataPlaneException(
        verdict.refusalOrNull(),
        verdict.explanation(),
        verdict.version() == 0
            ? Map.of("key", verdict.keyName())
            : Map.of("key", verdict.keyName(), "version", Long.toString(verdict.version())));
  }

  /** The unwrapped key of a usable version: cached, or unwrapped if {@code mayUnwrap}. */
  private Kek kek(KeyRecord key, KeyVersionRecord version, boolean mayUnwrap)
      throws DataPlaneException {
    KekCache.Id id = new KekCache.Id(key.getZone(), key.getName(), version.getVersion());
    Kek cached = keks.getIfPresent(id);
    if (cached != null) {
      return cached;
    }
    if (!mayUnwrap) {
      throw NeedsUnwrap.INSTANCE;
    }
    return keks.get(id, version.getKek(), this::stillUsable);
  }

  private boolean stillUsable(KekCache.Id id) {
    return keys.apply(id.keyName())
        .flatMap(
            key -> KeyVersions.find(key, id.version()).map(v -> VersionUse.mayStillBeUsed(key, v)))
        .orElse(false);
  }

  /** Thrown (preallocated) when work needs an HSM unwrap but may not do it on this thread. */
  static final class NeedsUnwrap extends RuntimeException {
    private static final long serialVersionUID = 1L;

    // A preallocated signal without a stack trace: thrown on the hot path, caught by the runner.
    @SuppressWarnings("StaticAssignmentOfThrowable")
    static final NeedsUnwrap INSTANCE = new NeedsUnwrap();

    private NeedsUnwrap() {
      super("needs an HSM unwrap", null, false, false);
    }
  }
}
