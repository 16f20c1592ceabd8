package io.keyrotor.hsm.software;

import io.keyrotor.hsm.AuditSigningKeys;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.Properties;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The software HSM's audit signing keys: ECDSA P-256 pairs in {@code <key file>.audit} (mode 0600)
 * beside the key file. Each private key (PKCS#8) is sealed with AES-256-GCM under a key derived
 * from the key file's passphrase (PBKDF2-HMAC-SHA256, a random salt, the key file's iteration
 * count) and its label as associated data, so no private key is on disk in the clear; public keys
 * are stored as they are. Like the zone master keys of the software HSM, the private keys live in
 * this process's memory once opened. Thread-safe.
 */
final class SoftwareAuditKeys {
  private static final String SALT = "salt";
  private static final String ITERATIONS = "iterations";
  private static final String PRIVATE = "private.";
  private static final String PUBLIC = "public.";
  private static final int NONCE_BYTES = 12;

  private final Path file;
  private final char[] passphrase;
  private final SecureRandom random;
  private final SortedMap<Integer, PrivateKey> privateKeys = new TreeMap<>();
  private final SortedMap<Integer, byte[]> publicKeys = new TreeMap<>();
  private Properties stored;
  private SecretKeySpec sealingKey;

  SoftwareAuditKeys(Path keyFile, char[] passphrase, SecureRandom random) {
    this.file = keyFile.resolveSibling(keyFile.getFileName() + ".audit");
    this.passphrase = passphrase;
    this.random = random;
  }

  synchronized SortedSet<Integer> versions() throws HsmException {
    load();
    return Collections.unmodifiableSortedSet(new TreeSet<>(publicKeys.keySet()));
  }

  synchronized int generate() throws HsmException {
    load();
    int version = publicKeys.isEmpty() ? 1 : publicKeys.lastKey() + 1;
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), random);
      KeyPair pair = generator.generateKeyPair();
      byte[] pkcs8 = pair.getPrivate().getEncoded();
      byte[] nonce = new byte[NONCE_BYTES];
      random.nextBytes(nonce);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, sealingKey(), new GCMParameterSpec(128, nonce));
      cipher.updateAAD(AuditSigningKeys.label(version).getBytes(StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(pkcs8);
      Arrays.fill(pkcs8, (byte) 0);
      byte[] both = new byte[NONCE_BYTES + sealed.length];
      System.arraycopy(nonce, 0, both, 0, NONCE_BYTES);
      System.arraycopy(sealed, 0, both, NONCE_BYTES, sealed.length);
      Properties next = new Properties();
      next.putAll(stored);
      next.setProperty(PRIVATE + version, Base64.getEncoder().encodeToString(both));
      next.setProperty(
          PUBLIC + version, Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()));
      write(next);
      stored = next;
      privateKeys.put(version, pair.getPrivate());
      publicKeys.put(version, pair.getPublic().getEncoded());
      return version;
    } catch (GeneralSecurityException e) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, "cannot generate an audit key", e);
    }
  }

  synchronized byte[] publicKey(int version) throws HsmException {
    load();
    byte[] key = publicKeys.get(version);
    if (key == null) {
      throw AuditSigningKeys.notHeld("the software HSM (" + file + ")", version);
    }
    return key.clone();
  }

  synchronized byte[] sign(int version, byte[] message) throws HsmException {
    AuditSigningKeys.requireSignable(message);
    load();
    PrivateKey key = privateKeys.get(version);
    if (key == null) {
      throw AuditSigningKeys.notHeld("the software HSM (" + file + ")", version);
    }
    try {
      Signature signature = Signature.getInstance("SHA256withECDSAinP1363Format");
      signature.initSign(key, random);
      signature.update(message);
      return signature.sign();
    } catch (GeneralSecurityException e) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, "cannot sign with audit key " + version, e);
    }
  }

  /** Reads the file once (later changes come through {@link #generate} only). */
  private void load() throws HsmException {
    if (stored != null) {
      return;
    }
    Properties properties = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      properties.load(in);
    } catch (NoSuchFileException e) {
      byte[] salt = new byte[16];
      random.nextBytes(salt);
      properties.setProperty(SALT, Base64.getEncoder().encodeToString(salt));
      properties.setProperty(ITERATIONS, Integer.toString(SoftwareKeyStoreFile.iterations()));
    } catch (IOException e) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, "cannot read " + file + ": " + e, e);
    }
    stored = properties;
    for (String name : properties.stringPropertyNames()) {
      if (!name.startsWith(PUBLIC)) {
        continue;
      }
      int version = Integer.parseInt(name.substring(PUBLIC.length()));
      publicKeys.put(version, Base64.getDecoder().decode(properties.getProperty(name)));
      privateKeys.put(version, open(version, properties.getProperty(PRIVATE + version, "")));
    }
  }

  private PrivateKey open(int version, String sealedBase64) throws HsmException {
    byte[] both = Base64.getDecoder().decode(sealedBase64);
    if (both.length <= NONCE_BYTES) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE, file + " has no private key for audit key " + version);
    }
    byte[] pkcs8 = null;
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.DECRYPT_MODE,
          sealingKey(),
          new GCMParameterSpec(128, Arrays.copyOfRange(both, 0, NONCE_BYTES)));
      cipher.updateAAD(AuditSigningKeys.label(version).getBytes(StandardCharsets.UTF_8));
      pkcs8 = cipher.doFinal(both, NONCE_BYTES, both.length - NONCE_BYTES);
      return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (GeneralSecurityException e) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          file + ": audit key " + version + " does not open with the key file's passphrase",
          e);
    } finally {
      if (pkcs8 != null) {
        Arrays.fill(pkcs8, (byte) 0);
      }
    }
  }

  private SecretKeySpec sealingKey() throws GeneralSecurityException {
    if (sealingKey == null) {
      byte[] salt = Base64.getDecoder().decode(stored.getProperty(SALT));
      int iterations = Integer.parseInt(stored.getProperty(ITERATIONS));
      PBEKeySpec spec = new PBEKeySpec(passphrase, salt, iterations, 256);
      try {
        byte[] derived =
            SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        sealingKey = new SecretKeySpec(derived, "AES");
        Arrays.fill(derived, (byte) 0);
      } finally {
        spec.clearPassword();
      }
    }
    return sealingKey;
  }

  private void write(Properties next) throws HsmException {
    try {
      Path temporary =
          Files.createTempFile(
              file.toAbsolutePath().getParent(),
              "." + file.getFileName() + ".",
              ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try (OutputStream out = Files.newOutputStream(temporary)) {
        next.store(out, "keyrotor software HSM audit keys: private keys sealed, do not edit");
      }
      Files.move(
          temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, "cannot write " + file + ": " + e, e);
    }
  }
}
