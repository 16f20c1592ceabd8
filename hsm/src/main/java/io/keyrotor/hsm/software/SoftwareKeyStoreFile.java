package io.keyrotor.hsm.software;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.KnownValueImport;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.UnrecoverableKeyException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.crypto.spec.PBEParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The software HSM's key file: zone master keys (AES-256) as secret key entries of a JDK PKCS12 key
 * store, aliases {@code zmk/<zone>/<version>}, every entry and the file's integrity protected by
 * one passphrase.
 *
 * <p>Writes are atomic (a temporary file in the same directory, forced to disk, then renamed over
 * the old one) and serialised between processes by a lock on {@code <file>.lock}; the file and the
 * lock are created with mode 0600. Entries and the file's integrity MAC are protected by
 * PBKDF2-HMAC-SHA256 with {@link #iterations()} iterations (600,000 by default; AES-256 for the
 * entries, HMAC-SHA256 for the MAC); a file written with fewer (10,000, by older versions) is
 * rewritten with the current parameters when a {@link SoftwareHsm} opens it. A running {@link
 * SoftwareHsm} notices a replaced file and reloads it, so a zone created here is usable without a
 * restart.
 *
 * <p>This is the development counterpart of the PKCS#11 ceremonies: in a dev cluster every node of
 * a zone gets the same master key by {@link #copyZone}. The key bytes exist in the file (encrypted)
 * and in process memory, which is exactly what a real HSM avoids.
 *
 * <p>Over 500 lines because it is the whole file: format, locking, atomic replace and the KDF.
 */
@SuppressWarnings("try") // the write lock is held by try-with-resources, never read
public final class SoftwareKeyStoreFile {
  private static final String KEY_STORE_TYPE = "PKCS12";
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * System property: PBKDF2-HMAC-SHA256 iterations for the key file's entries and its integrity
   * MAC. Default {@value #DEFAULT_ITERATIONS} (OWASP's 2023 recommendation). Meant for tests only,
   * where thousands of key file operations would otherwise take minutes: anything from {@value
   * #MIN_ITERATIONS} is accepted, and a file written with fewer iterations than the setting is
   * rewritten when opened (see {@link #upgrade}).
   */
  public static final String ITERATIONS_PROPERTY = "keyrotor.hsm.software.pbkdf2-iterations";

  /** PBKDF2 iterations of a key file unless {@link #ITERATIONS_PROPERTY} says otherwise. */
  public static final int DEFAULT_ITERATIONS = 600_000;

  /** The fewest iterations {@link #ITERATIONS_PROPERTY} may ask for. */
  public static final int MIN_ITERATIONS = 1_000;

  private static final String ENTRY_PROTECTION = "PBEWithHmacSHA256AndAES_256";
  private static final String MAC_ALGORITHM = "HmacPBESHA256";
  private static final String MAC_ITERATIONS_PROPERTY = "keystore.pkcs12.macIterationCount";
  private static final String MAC_ALGORITHM_PROPERTY = "keystore.pkcs12.macAlgorithm";
  private static final Object MAC_SETTINGS = new Object();

  private SoftwareKeyStoreFile() {}

  /**
   * Creates an empty key file.
   *
   * @throws HsmException {@code REFUSED} if the file already exists
   */
  public static void create(Path file, char[] passphrase) throws HsmException {
    Objects.requireNonNull(passphrase, "passphrase");
    if (passphrase.length == 0) {
      throw new HsmException(Reason.INVALID_REQUEST, "the key file passphrase must not be empty");
    }
    try (WriteLock lock = lock(file)) {
      if (Files.exists(file)) {
        throw new HsmException(
            Reason.REFUSED, "key file " + file + " already exists; it was left unchanged");
      }
      store(file, passphrase, Map.of());
    }
  }

  /**
   * Creates a new master key version for {@code zone} (version 1 for a new zone, else the newest
   * version + 1) from the platform's strong random generator.
   *
   * @return the new version
   */
  public static int createZone(Path file, char[] passphrase, String zone) throws HsmException {
    ZoneMasterKeys.requireValidZone(zone);
    try (WriteLock lock = lock(file)) {
      Map<ZoneMasterKeyId, SecretKeyBytes> keys = load(file, passphrase);
      try {
        int version = ZoneMasterKeys.newestVersion(keys.keySet(), zone).orElse(0) + 1;
        byte[] bytes = new byte[ZoneMasterKeys.KEY_LENGTH_BYTES];
        RANDOM.nextBytes(bytes);
        keys.put(new ZoneMasterKeyId(zone, version), SecretKeyBytes.takeOwnership(bytes));
        store(file, passphrase, keys);
        return version;
      } finally {
        destroyAll(keys);
      }
    }
  }

  /**
   * Copies every master key version of {@code zone} from one key file to another (each file keeps
   * its own passphrase). Versions the target already holds with the same key are skipped.
   *
   * @return the versions copied
   * @throws HsmException {@code ZONE_NOT_HELD} if the source has no key for the zone; {@code
   *     REFUSED} (and nothing copied) if the target holds a version with a different key
   */
  public static List<Integer> copyZone(
      Path source, char[] sourcePassphrase, Path target, char[] targetPassphrase, String zone)
      throws HsmException {
    ZoneMasterKeys.requireValidZone(zone);
    Map<ZoneMasterKeyId, SecretKeyBytes> from = load(source, sourcePassphrase);
    try (WriteLock lock = lock(target)) {
      Map<ZoneMasterKeyId, SecretKeyBytes> to = load(target, targetPassphrase);
      try {
        List<Integer> copied = new ArrayList<>();
        for (Map.Entry<ZoneMasterKeyId, SecretKeyBytes> entry : from.entrySet()) {
          ZoneMasterKeyId id = entry.getKey();
          if (!id.zone().equals(zone)) {
            continue;
          }
          SecretKeyBytes existing = to.get(id);
          if (existing == null) {
            to.put(id, SecretKeyBytes.copyOf(keyBytesOf(entry.getValue())));
            copied.add(id.version());
          } else if (!existing.equals(entry.getValue())) {
            throw new HsmException(
                Reason.REFUSED,
                "key file "
                    + target
                    + " already holds zone master key "
                    + id
                    + " with a different key (check value "
                    + checkValue(existing)
                    + " there, "
                    + checkValue(entry.getValue())
                    + " in "
                    + source
                    + "); nothing was copied");
          }
        }
        if (copied.isEmpty() && from.keySet().stream().noneMatch(id -> id.zone().equals(zone))) {
          throw new HsmException(
              Reason.ZONE_NOT_HELD, "key file " + source + " holds no master key for zone " + zone);
        }
        if (!copied.isEmpty()) {
          store(target, targetPassphrase, to);
        }
        return List.copyOf(copied);
      } finally {
        destroyAll(to);
      }
    } finally {
      destroyAll(from);
    }
  }

  /** The zones in a key file and their master key versions, sorted. */
  public static SortedMap<String, SortedSet<Integer>> listZones(Path file, char[] passphrase)
      throws HsmException {
    Map<ZoneMasterKeyId, SecretKeyBytes> keys = load(file, passphrase);
    try {
      SortedMap<String, SortedSet<Integer>> zones = new TreeMap<>();
      for (ZoneMasterKeyId id : keys.keySet()) {
        zones.computeIfAbsent(id.zone(), z -> new TreeSet<>()).add(id.version());
      }
      zones.replaceAll((zone, versions) -> Collections.unmodifiableSortedSet(versions));
      return Collections.unmodifiableSortedMap(zones);
    } finally {
      destroyAll(keys);
    }
  }

  /** The key check value of one master key version (see {@code ZoneMasterKeys}). */
  public static String keyCheckValue(Path file, char[] passphrase, String zone, int version)
      throws HsmException {
    Map<ZoneMasterKeyId, SecretKeyBytes> keys = load(file, passphrase);
    try {
      ZoneMasterKeys.requireValidZone(zone);
      SecretKeyBytes key = version < 1 ? null : keys.get(new ZoneMasterKeyId(zone, version));
      if (key == null) {
        throw new HsmException(
            Reason.ZONE_NOT_HELD,
            "key file " + file + " holds no master key " + zone + "/" + version);
      }
      return checkValue(key);
    } finally {
      destroyAll(keys);
    }
  }

  /**
   * Stores a master key of known value. For tests only (it lets a test give a software HSM and a
   * PKCS#11 token the same key): refused unless {@link KnownValueImport#ALLOW_PROPERTY} is set.
   *
   * @throws HsmException {@code REFUSED} outside tests, or if the version already exists
   */
  public static void importKnownValue(
      Path file, char[] passphrase, String zone, int version, SecretKeyBytes key)
      throws HsmException {
    KnownValueImport.requireAllowed();
    ZoneMasterKeys.requireValidZone(zone);
    if (key.length() != ZoneMasterKeys.KEY_LENGTH_BYTES) {
      throw new HsmException(Reason.INVALID_REQUEST, "zone master keys are AES-256 (32 bytes)");
    }
    ZoneMasterKeyId id = new ZoneMasterKeyId(zone, version);
    try (WriteLock lock = lock(file)) {
      Map<ZoneMasterKeyId, SecretKeyBytes> keys = load(file, passphrase);
      try {
        if (keys.containsKey(id)) {
          throw new HsmException(
              Reason.REFUSED, "key file " + file + " already holds zone master key " + id);
        }
        keys.put(id, SecretKeyBytes.copyOf(keyBytesOf(key)));
        store(file, passphrase, keys);
      } finally {
        destroyAll(keys);
      }
    }
  }

  /**
   * Rewrites a key file protected by fewer PBKDF2 iterations than {@link #iterations()} (a file
   * from an older version, 10,000 iterations) with the current parameters, atomically and under the
   * write lock: the same keys, the same passphrase.
   *
   * @return whether the file was rewritten
   * @throws HsmException {@code HSM_UNAVAILABLE} if it cannot be read or written
   */
  public static boolean upgrade(Path file, char[] passphrase) throws HsmException {
    int wanted = iterations();
    if (macIterations(file) >= wanted) {
      return false;
    }
    try (WriteLock lock = lock(file)) {
      if (macIterations(file) >= wanted) {
        return false; // another process upgraded it meanwhile
      }
      Map<ZoneMasterKeyId, SecretKeyBytes> keys = load(file, passphrase);
      try {
        store(file, passphrase, keys);
        return true;
      } finally {
        destroyAll(keys);
      }
    }
  }

  /** PBKDF2 iterations new and rewritten key files get: {@link #ITERATIONS_PROPERTY} or default. */
  public static int iterations() {
    Integer configured = Integer.getInteger(ITERATIONS_PROPERTY);
    if (configured == null) {
      return DEFAULT_ITERATIONS;
    }
    if (configured < MIN_ITERATIONS) {
      throw new IllegalStateException(
          ITERATIONS_PROPERTY + " must be at least " + MIN_ITERATIONS + ", not " + configured);
    }
    return configured;
  }

  /**
   * The iteration count of a key file's integrity MAC (0 if it has none or cannot be parsed): the
   * file's PBKDF2 strength, since this class always writes entries and MAC with the same count.
   */
  static int macIterations(Path file) throws HsmException {
    try {
      return Pkcs12MacIterations.of(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, "key file " + file + " does not exist");
    } catch (IOException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE, "key file " + file + " could not be read: " + e, e);
    }
  }

  /**
   * Reads every master key of a key file. The caller owns (and must destroy) the values.
   *
   * @throws HsmException {@code HSM_UNAVAILABLE} with a message a person can act on if the file is
   *     missing, unreadable, corrupt or the passphrase is wrong
   */
  static Map<ZoneMasterKeyId, SecretKeyBytes> load(Path file, char[] passphrase)
      throws HsmException {
    KeyStore store;
    try (InputStream in = Files.newInputStream(file)) {
      store = KeyStore.getInstance(KEY_STORE_TYPE);
      store.load(in, passphrase);
    } catch (NoSuchFileException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          "key file " + file + " does not exist (create it with SoftwareKeyStoreFile.create)");
    } catch (IOException e) {
      if (e.getCause() instanceof UnrecoverableKeyException) {
        throw new HsmException(
            Reason.HSM_UNAVAILABLE,
            "key file " + file + " could not be opened: wrong passphrase (or a corrupt file)");
      }
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          "key file " + file + " could not be read: " + e.getMessage() + " (is it a key file?)",
          e);
    } catch (GeneralSecurityException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE, "key file " + file + " is not a readable PKCS12 key store", e);
    }
    Map<ZoneMasterKeyId, SecretKeyBytes> keys = new TreeMap<>();
    try {
      KeyStore.PasswordProtection protection = new KeyStore.PasswordProtection(passphrase);
      for (String alias : Collections.list(store.aliases())) {
        ZoneMasterKeyId id = ZoneMasterKeys.parseAlias(alias).orElse(null);
        if (id == null) {
          continue;
        }
        KeyStore.Entry entry = store.getEntry(alias, protection);
        if (!(entry instanceof KeyStore.SecretKeyEntry secretEntry)) {
          continue;
        }
        byte[] encoded = secretEntry.getSecretKey().getEncoded();
        if (encoded == null || encoded.length != ZoneMasterKeys.KEY_LENGTH_BYTES) {
          throw new HsmException(
              Reason.HSM_UNAVAILABLE,
              "key file " + file + ": entry " + alias + " is not an AES-256 key");
        }
        keys.put(id, SecretKeyBytes.takeOwnership(encoded));
      }
      return keys;
    } catch (GeneralSecurityException e) {
      destroyAll(keys);
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          "key file " + file + ": an entry could not be decrypted with the passphrase",
          e);
    } catch (HsmException e) {
      destroyAll(keys);
      throw e;
    }
  }

  /** What identifies a version of the file on disk: a rename gives a new file key. */
  static Object stamp(Path file) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      return List.of(
          String.valueOf(attributes.fileKey()),
          attributes.lastModifiedTime().toMillis(),
          attributes.size());
    } catch (IOException e) {
      return "unreadable";
    }
  }

  private static void store(Path file, char[] passphrase, Map<ZoneMasterKeyId, SecretKeyBytes> keys)
      throws HsmException {
    Path directory = file.toAbsolutePath().getParent();
    Path temporary = null;
    try {
      KeyStore store = KeyStore.getInstance(KEY_STORE_TYPE);
      store.load(null, passphrase);
      int iterations = iterations();
      for (Map.Entry<ZoneMasterKeyId, SecretKeyBytes> entry : keys.entrySet()) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        KeyStore.PasswordProtection protection =
            new KeyStore.PasswordProtection(
                passphrase, ENTRY_PROTECTION, new PBEParameterSpec(salt, iterations));
        ZoneMasterKeyId id = entry.getKey();
        byte[] bytes = keyBytesOf(entry.getValue());
        try {
          store.setEntry(
              ZoneMasterKeys.alias(id.zone(), id.version()),
              new KeyStore.SecretKeyEntry(new SecretKeySpec(bytes, "AES")),
              protection);
        } finally {
          Arrays.fill(bytes, (byte) 0);
        }
      }
      Files.createDirectories(directory);
      temporary =
          Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp", ownerOnly());
      try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE);
          OutputStream out = Channels.newOutputStream(channel)) {
        storeWithMacIterations(store, out, passphrase, iterations);
        out.flush();
        channel.force(true);
      }
      try {
        Files.move(
            temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the file system of " + directory + " cannot rename atomically", e);
      }
      temporary = null;
      forceDirectory(directory);
    } catch (IOException | GeneralSecurityException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE, "key file " + file + " could not be written: " + e, e);
    } finally {
      if (temporary != null) {
        try {
          Files.deleteIfExists(temporary);
        } catch (IOException ignored) {
          // best effort: a stray temporary file holds only encrypted keys
        }
      }
    }
  }

  /**
   * Writes {@code store} with its integrity MAC derived with {@code iterations} PBKDF2 iterations.
   * The JDK takes the MAC's parameters only from system properties, read when a new key store is
   * written; they are set for the call and restored, serialised so no two writers mix them.
   */
  private static void storeWithMacIterations(
      KeyStore store, OutputStream out, char[] passphrase, int iterations)
      throws IOException, GeneralSecurityException {
    synchronized (MAC_SETTINGS) {
      String previousIterations = System.getProperty(MAC_ITERATIONS_PROPERTY);
      String previousAlgorithm = System.getProperty(MAC_ALGORITHM_PROPERTY);
      System.setProperty(MAC_ITERATIONS_PROPERTY, Integer.toString(iterations));
      System.setProperty(MAC_ALGORITHM_PROPERTY, MAC_ALGORITHM);
      try {
        store.store(out, passphrase);
      } finally {
        restore(MAC_ITERATIONS_PROPERTY, previousIterations);
        restore(MAC_ALGORITHM_PROPERTY, previousAlgorithm);
      }
    }
  }

  private static void restore(String property, String previous) {
    if (previous == null) {
      System.clearProperty(property);
    } else {
      System.setProperty(property, previous);
    }
  }

  private static WriteLock lock(Path file) throws HsmException {
    Path lockFile = file.resolveSibling(file.getFileName() + ".lock");
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      try {
        Files.createFile(lockFile, ownerOnly());
      } catch (FileAlreadyExistsException ignored) {
        // another writer made it
      }
      FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
      try {
        channel.lock();
        return new WriteLock(channel);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
    } catch (IOException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE, "could not lock key file " + file + " for writing: " + e, e);
    }
  }

  private static FileAttribute<Set<PosixFilePermission>> ownerOnly() {
    return PosixFilePermissions.asFileAttribute(OWNER_ONLY);
  }

  private static void forceDirectory(Path directory) {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException ignored) {
      // some platforms cannot open a directory; the rename itself is still atomic
    }
  }

  private static byte[] keyBytesOf(SecretKeyBytes key) {
    return key.revealCopy();
  }

  private static String checkValue(SecretKeyBytes key) throws HsmException {
    return JceWrapping.checkValue(key.toAesKey());
  }

  private static void destroyAll(Map<ZoneMasterKeyId, SecretKeyBytes> keys) {
    keys.values().forEach(SecretKeyBytes::destroy);
  }

  /** Holds the write lock until closed; closing the channel releases the lock. */
  private static final class WriteLock implements AutoCloseable {
    private final FileChannel channel;

    WriteLock(FileChannel channel) {
      this.channel = channel;
    }

    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException ignored) {
        // the lock is gone with the channel either way
      }
    }
  }
}
