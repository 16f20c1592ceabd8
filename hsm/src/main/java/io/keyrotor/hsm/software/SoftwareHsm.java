package io.keyrotor.hsm.software;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmDescription;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded software HSM for development: zone master keys from a {@link SoftwareKeyStoreFile},
 * wrapping with the JDK (RFC 5649 {@code AES/KWP/NoPadding} by default). It unwraps all three
 * {@link WrapMechanism}s, so keys wrapped by a PKCS#11 node unwrap here when the master key is the
 * same.
 *
 * <p>The key file is read at open and read again whenever it is replaced on disk (a zone created or
 * copied while the node runs is picked up on the next call). Thread-safe. Unlike a real HSM, the
 * master keys live in this process's memory; {@link #close()} zeroes them.
 */
public final class SoftwareHsm implements Hsm {
  private static final Logger LOG = LoggerFactory.getLogger(SoftwareHsm.class);

  private final Path keyFile;
  private final char[] passphrase;
  private final List<WrapMechanism> mechanisms;
  private final SecureRandom random = new SecureRandom();
  private final Object reloadLock = new Object();
  private volatile Snapshot snapshot;
  private volatile boolean healthy = true;
  private volatile boolean closed;
  private final SoftwareAuditKeys auditKeys;

  private record Snapshot(Object stamp, Map<ZoneMasterKeyId, SecretKeyBytes> keys) {}

  private SoftwareHsm(Path keyFile, char[] passphrase, List<WrapMechanism> mechanisms) {
    this.keyFile = keyFile;
    this.passphrase = passphrase;
    this.mechanisms = mechanisms;
    this.auditKeys = new SoftwareAuditKeys(keyFile, this.passphrase, random);
  }

  /**
   * Opens the key file named in {@code config}. Copies the passphrase.
   *
   * @throws HsmException {@code HSM_UNAVAILABLE} if the file is missing or the passphrase wrong
   */
  public static SoftwareHsm open(HsmConfig.Software config) throws HsmException {
    Objects.requireNonNull(config, "config");
    try {
      if (SoftwareKeyStoreFile.upgrade(config.keyFile(), config.passphrase())) {
        LOG.info(
            "software HSM key file {} rewritten with {} PBKDF2 iterations",
            config.keyFile(),
            SoftwareKeyStoreFile.iterations());
      }
    } catch (HsmException e) {
      // Opening below says what is wrong with a missing or unreadable file.
      LOG.warn("software HSM key file {} not upgraded: {}", config.keyFile(), e.getMessage());
    }
    SoftwareHsm hsm =
        new SoftwareHsm(
            config.keyFile(), config.passphrase().clone(), config.mechanismPreference());
    try {
      hsm.snapshot = hsm.read();
    } catch (HsmException e) {
      hsm.close();
      throw e;
    }
    LOG.info(
        "software HSM opened: key file {}, {} zone master keys, mechanisms {}",
        config.keyFile(),
        hsm.snapshot.keys().size(),
        hsm.mechanisms);
    return hsm;
  }

  @Override
  public HsmDescription describe() {
    return new HsmDescription("software", keyFile.toString(), "", mechanisms, healthy && !closed);
  }

  @Override
  public Set<String> zones() {
    Snapshot current;
    try {
      current = current();
    } catch (HsmException e) {
      return Set.of();
    }
    return ZoneMasterKeys.versionsByZone(current.keys().keySet()).keySet();
  }

  @Override
  public int currentZoneMasterKeyVersion(String zone) throws HsmException {
    ZoneMasterKeys.requireValidZone(zone);
    return ZoneMasterKeys.newestVersion(current().keys().keySet(), zone)
        .orElseThrow(() -> zoneNotHeld(zone));
  }

  @Override
  public WrappedKey wrap(String zone, SecretKeyBytes key) throws HsmException {
    return wrap(zone, currentZoneMasterKeyVersion(zone), key);
  }

  @Override
  public WrappedKey wrap(String zone, int version, SecretKeyBytes key) throws HsmException {
    ZoneMasterKeyId id = ZoneMasterKeys.requireValidId(zone, version);
    SecretKeyBytes zoneMasterKey = keyOf(id);
    WrapMechanism mechanism = mechanisms.get(0);
    byte[] plaintext = key.revealCopy();
    try {
      byte[] wrapped = JceWrapping.wrap(mechanism, zoneMasterKey.toAesKey(), id, plaintext, random);
      return new WrappedKey(zone, version, mechanism, wrapped);
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  @Override
  public SortedMap<String, SortedSet<Integer>> zoneMasterKeyVersions() throws HsmException {
    return ZoneMasterKeys.versionsByZone(current().keys().keySet());
  }

  @Override
  public boolean checkHealth() {
    try {
      current();
    } catch (HsmException e) {
      return false;
    }
    return describe().healthy();
  }

  @Override
  public SecretKeyBytes unwrap(WrappedKey wrapped) throws HsmException {
    ZoneMasterKeyId id =
        ZoneMasterKeys.requireValidId(wrapped.zone(), wrapped.zoneMasterKeyVersion());
    SecretKeyBytes zoneMasterKey = keyOf(id);
    return SecretKeyBytes.takeOwnership(
        JceWrapping.unwrap(
            wrapped.mechanism(), zoneMasterKey.toAesKey(), id, wrapped.ciphertext()));
  }

  @Override
  public String keyCheckValue(String zone, int version) throws HsmException {
    return JceWrapping.checkValue(keyOf(ZoneMasterKeys.requireValidId(zone, version)).toAesKey());
  }

  @Override
  public byte[] randomBytes(int count) throws HsmException {
    if (count < 0 || count > 1 << 20) {
      throw new HsmException(Reason.INVALID_REQUEST, "count must be 0 to 1 MiB, not " + count);
    }
    byte[] bytes = new byte[count];
    random.nextBytes(bytes);
    return bytes;
  }

  @Override
  public SortedSet<Integer> auditKeyVersions() throws HsmException {
    return auditKeys.versions();
  }

  @Override
  public int generateAuditKey() throws HsmException {
    return auditKeys.generate();
  }

  @Override
  public byte[] auditPublicKey(int version) throws HsmException {
    return auditKeys.publicKey(version);
  }

  @Override
  public byte[] signAudit(int version, byte[] message) throws HsmException {
    return auditKeys.sign(version, message);
  }

  @Override
  public void close() {
    synchronized (reloadLock) {
      closed = true;
      Snapshot last = snapshot;
      if (last != null) {
        last.keys().values().forEach(SecretKeyBytes::destroy);
      }
      Arrays.fill(passphrase, '\0');
    }
  }

  @Override
  public String toString() {
    return "SoftwareHsm[" + keyFile + "]";
  }

  private SecretKeyBytes keyOf(ZoneMasterKeyId id) throws HsmException {
    SecretKeyBytes key = current().keys().get(id);
    if (key == null) {
      throw new HsmException(
          Reason.ZONE_NOT_HELD,
          "this software HSM ("
              + keyFile
              + ") holds no master key "
              + id.zone()
              + "/"
              + id.version());
    }
    return key;
  }

  /** The keys as on disk now: reloads if the file was replaced since the last read. */
  // Identity on purpose: has another thread replaced the snapshot while this one waited?
  @SuppressWarnings("ReferenceEquality")
  private Snapshot current() throws HsmException {
    if (closed) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, "the software HSM is closed");
    }
    Snapshot known = snapshot;
    if (known.stamp().equals(SoftwareKeyStoreFile.stamp(keyFile))) {
      return known;
    }
    synchronized (reloadLock) {
      if (closed) {
        throw new HsmException(Reason.HSM_UNAVAILABLE, "the software HSM is closed");
      }
      if (snapshot != known) {
        return snapshot;
      }
      try {
        snapshot = read();
        healthy = true;
        LOG.info("software HSM reloaded key file {}", keyFile);
      } catch (HsmException e) {
        // Keep serving the keys read before; the old snapshot is not zeroed since calls in
        // flight may use it.
        healthy = false;
        LOG.warn("software HSM keeps its previous keys: {}", e.getMessage());
      }
      return snapshot;
    }
  }

  private Snapshot read() throws HsmException {
    Object stamp = SoftwareKeyStoreFile.stamp(keyFile);
    return new Snapshot(stamp, Map.copyOf(SoftwareKeyStoreFile.load(keyFile, passphrase)));
  }

  private static HsmException zoneNotHeld(String zone) {
    return new HsmException(Reason.ZONE_NOT_HELD, "this HSM holds no master key for zone " + zone);
  }
}
