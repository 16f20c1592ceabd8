package io.keyrotor.hsm.software;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.List;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The software HSM's key file and its PBKDF2 strength: new files get the configured iterations
 * (600,000 in production; the build runs tests with fewer, see the module README), and a file an
 * older version wrote with the JDK's default of 10,000 is rewritten with them, same keys, when a
 * software HSM opens it.
 */
class KeyFileIterationsTest {
  private static final char[] PASSPHRASE = "old passphrase".toCharArray();
  private static final int TEST_TARGET = 20_000;

  @TempDir Path directory;
  private String previous;

  @BeforeEach
  void raiseTheTarget() {
    previous = System.getProperty(SoftwareKeyStoreFile.ITERATIONS_PROPERTY);
    System.setProperty(SoftwareKeyStoreFile.ITERATIONS_PROPERTY, Integer.toString(TEST_TARGET));
  }

  @AfterEach
  void restore() {
    if (previous == null) {
      System.clearProperty(SoftwareKeyStoreFile.ITERATIONS_PROPERTY);
    } else {
      System.setProperty(SoftwareKeyStoreFile.ITERATIONS_PROPERTY, previous);
    }
  }

  @Test
  void defaultIterations_areOwasp2023sForPbkdf2HmacSha256() {
    System.clearProperty(SoftwareKeyStoreFile.ITERATIONS_PROPERTY);
    assertEquals(600_000, SoftwareKeyStoreFile.iterations());
  }

  @Test
  void newKeyFile_protectedWithTheConfiguredIterations() throws Exception {
    Path file = directory.resolve("new.p12");
    SoftwareKeyStoreFile.create(file, PASSPHRASE);
    SoftwareKeyStoreFile.createZone(file, PASSPHRASE, "eu");
    assertEquals(TEST_TARGET, SoftwareKeyStoreFile.macIterations(file));
    assertFalse(SoftwareKeyStoreFile.upgrade(file, PASSPHRASE));
  }

  @Test
  void oldTenThousandIterationFile_opensAndIsRewrittenWithTheNewParameters() throws Exception {
    Path file = directory.resolve("old.p12");
    writeAsAnOlderVersionDid(file);
    assertEquals(10_000, SoftwareKeyStoreFile.macIterations(file));
    String checkValue = SoftwareKeyStoreFile.keyCheckValue(file, PASSPHRASE, "eu", 1);
    Object before = SoftwareKeyStoreFile.stamp(file);

    try (SoftwareHsm hsm = SoftwareHsm.open(HsmConfig.software(file, PASSPHRASE.clone()))) {
      assertEquals(checkValue, hsm.keyCheckValue("eu", 1));
    }

    assertEquals(TEST_TARGET, SoftwareKeyStoreFile.macIterations(file));
    assertNotEquals(before, SoftwareKeyStoreFile.stamp(file), "rewritten (a new file renamed)");
    assertEquals(checkValue, SoftwareKeyStoreFile.keyCheckValue(file, PASSPHRASE, "eu", 1));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    try (var leftovers = Files.list(directory)) {
      assertEquals(
          List.of("old.p12", "old.p12.lock"),
          leftovers.map(p -> p.getFileName().toString()).sorted().toList());
    }
    // Opened again: nothing left to do.
    assertFalse(SoftwareKeyStoreFile.upgrade(file, PASSPHRASE));
  }

  @Test
  void wrongPassphrase_oldFileLeftAsItWas() throws Exception {
    Path file = directory.resolve("old.p12");
    writeAsAnOlderVersionDid(file);
    byte[] before = Files.readAllBytes(file);
    HsmException refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            HsmException.class, () -> SoftwareKeyStoreFile.upgrade(file, "not it".toCharArray()));
    assertEquals(HsmException.Reason.HSM_UNAVAILABLE, refused.reason());
    assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(file)));
  }

  /** A key file as keyrotor wrote it before: the JDK's PKCS12 defaults (10,000 iterations). */
  private static void writeAsAnOlderVersionDid(Path file) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, PASSPHRASE);
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    store.setEntry(
        "zmk/eu/1",
        new KeyStore.SecretKeyEntry(new SecretKeySpec(key, "AES")),
        new KeyStore.PasswordProtection(PASSPHRASE));
    try (OutputStream out = Files.newOutputStream(file)) {
      store.store(out, PASSPHRASE);
    }
  }
}
