package io.keyrotor.hsm.software;

import static io.keyrotor.hsm.HsmTesting.randomKey;
import static io.keyrotor.hsm.HsmTesting.reasonOf;
import static io.keyrotor.hsm.HsmTesting.unwrapReasonAs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.hsm.KnownValueImport;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SoftwareHsmTest {
  private static final char[] PASSPHRASE = "dev-passphrase".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path directory;
  private Path keyFile;

  @BeforeEach
  void keyFileWithTwoZones() throws HsmException {
    keyFile = directory.resolve("node1/zmk.p12");
    SoftwareKeyStoreFile.create(keyFile, PASSPHRASE);
    SoftwareKeyStoreFile.createZone(keyFile, PASSPHRASE, "eu");
    SoftwareKeyStoreFile.createZone(keyFile, PASSPHRASE, "us");
  }

  @ParameterizedTest
  @EnumSource(WrapMechanism.class)
  void wrapThenUnwrap_roundTripsWithEachMechanism(WrapMechanism mechanism) throws Exception {
    try (Hsm hsm = Hsms.open(new HsmConfig.Software(keyFile, PASSPHRASE, List.of(mechanism)))) {
      SecretKeyBytes key = randomKey(32);
      WrappedKey wrapped = hsm.wrap("eu", key);

      assertEquals(mechanism, wrapped.mechanism());
      assertEquals(key, hsm.unwrap(wrapped));
    }
  }

  @Test
  void wrap_defaultsToRfc5649AndUnwrapAcceptsEveryMechanism() throws Exception {
    try (Hsm defaults = Hsms.open(HsmConfig.software(keyFile, PASSPHRASE));
        Hsm gcm =
            Hsms.open(
                new HsmConfig.Software(keyFile, PASSPHRASE, List.of(WrapMechanism.AES_GCM)))) {
      SecretKeyBytes key = randomKey(32);

      assertEquals(WrapMechanism.AES_KEY_WRAP_PAD, defaults.wrap("eu", key).mechanism());
      assertEquals(key, defaults.unwrap(gcm.wrap("eu", key)));
      assertEquals("software", defaults.describe().kind());
      assertEquals(Set.of("eu", "us"), defaults.zones());
    }
  }

  @ParameterizedTest
  @EnumSource(WrapMechanism.class)
  void unwrap_tamperedOrMovedToAnotherZone_failsWithUnwrapFailed(WrapMechanism mechanism)
      throws Exception {
    try (Hsm hsm = Hsms.open(new HsmConfig.Software(keyFile, PASSPHRASE, List.of(mechanism)))) {
      WrappedKey wrapped = hsm.wrap("eu", randomKey(32));
      byte[] ciphertext = wrapped.ciphertext();
      ciphertext[3] ^= 0x40;

      assertEquals(
          Reason.UNWRAP_FAILED,
          reasonOf(() -> hsm.unwrap(new WrappedKey("eu", 1, mechanism, ciphertext))));
      assertEquals(
          Reason.UNWRAP_FAILED,
          reasonOf(() -> hsm.unwrap(new WrappedKey("us", 1, mechanism, wrapped.ciphertext()))));
      assertEquals(
          Reason.UNWRAP_FAILED,
          reasonOf(() -> hsm.unwrap(new WrappedKey("eu", 1, mechanism, new byte[3]))));
    }
  }

  @Test
  void unwrapOrWrap_zoneOrVersionNotHeld_failsWithZoneNotHeld() throws Exception {
    try (Hsm hsm = Hsms.open(HsmConfig.software(keyFile, PASSPHRASE))) {
      WrappedKey wrapped = hsm.wrap("eu", randomKey(32));

      assertEquals(Reason.ZONE_NOT_HELD, reasonOf(() -> hsm.wrap("apac", randomKey(32))));
      assertEquals(Reason.ZONE_NOT_HELD, unwrapReasonAs(hsm, wrapped, "eu", 2));
    }
  }

  @Test
  void createZone_whileOpen_isPickedUpAndRotatesTheWrappingVersion() throws Exception {
    try (Hsm hsm = Hsms.open(HsmConfig.software(keyFile, PASSPHRASE))) {
      SecretKeyBytes key = randomKey(32);
      WrappedKey underVersion1 = hsm.wrap("eu", key);

      assertEquals(2, SoftwareKeyStoreFile.createZone(keyFile, PASSPHRASE, "eu"));
      SoftwareKeyStoreFile.createZone(keyFile, PASSPHRASE, "apac");

      assertEquals(2, hsm.currentZoneMasterKeyVersion("eu"));
      assertEquals(2, hsm.wrap("eu", key).zoneMasterKeyVersion());
      assertEquals(key, hsm.unwrap(underVersion1), "older versions keep unwrapping");
      assertEquals(Set.of("apac", "eu", "us"), hsm.zones());
    }
  }

  @Test
  void open_wrongPassphraseOrMissingFile_failsWithHsmUnavailableAndAClearMessage() {
    HsmException wrong =
        assertThrows(
            HsmException.class,
            () -> Hsms.open(HsmConfig.software(keyFile, "not-it".toCharArray())));
    HsmException missing =
        assertThrows(
            HsmException.class,
            () -> Hsms.open(HsmConfig.software(directory.resolve("none.p12"), PASSPHRASE)));

    assertEquals(Reason.HSM_UNAVAILABLE, wrong.reason());
    assertTrue(wrong.getMessage().contains("wrong passphrase"), wrong.getMessage());
    assertEquals(Reason.HSM_UNAVAILABLE, missing.reason());
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
  }

  @Test
  void keyFile_isOwnerOnlyAndHoldsNoPlaintextKey() throws Exception {
    byte[] zoneMasterKey = new byte[32];
    RANDOM.nextBytes(zoneMasterKey);
    System.setProperty(KnownValueImport.ALLOW_PROPERTY, "true");
    try {
      SoftwareKeyStoreFile.importKnownValue(
          keyFile, PASSPHRASE, "known", 1, SecretKeyBytes.copyOf(zoneMasterKey));
    } finally {
      System.clearProperty(KnownValueImport.ALLOW_PROPERTY);
    }

    assertEquals(
        "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
    String fileHex = HexFormat.of().formatHex(Files.readAllBytes(keyFile));
    assertFalse(fileHex.contains(HexFormat.of().formatHex(zoneMasterKey)));
    try (Stream<Path> files = Files.list(keyFile.getParent())) {
      assertEquals(
          List.of("zmk.p12", "zmk.p12.lock"),
          files.map(path -> path.getFileName().toString()).sorted().toList(),
          "no temporary file is left behind");
    }
  }

  @Test
  void copyZone_givesTheTargetTheSameKeysAndIsIdempotent() throws Exception {
    Path other = directory.resolve("node2/zmk.p12");
    char[] otherPassphrase = "node2-passphrase".toCharArray();
    SoftwareKeyStoreFile.create(other, otherPassphrase);
    SoftwareKeyStoreFile.createZone(keyFile, PASSPHRASE, "eu");

    List<Integer> copied =
        SoftwareKeyStoreFile.copyZone(keyFile, PASSPHRASE, other, otherPassphrase, "eu");
    List<Integer> again =
        SoftwareKeyStoreFile.copyZone(keyFile, PASSPHRASE, other, otherPassphrase, "eu");

    assertEquals(List.of(1, 2), copied);
    assertEquals(List.of(), again);
    Map<String, SortedSet<Integer>> zones = SoftwareKeyStoreFile.listZones(other, otherPassphrase);
    assertEquals(Map.of("eu", Set.of(1, 2)), zones);
    assertEquals(
        SoftwareKeyStoreFile.keyCheckValue(keyFile, PASSPHRASE, "eu", 2),
        SoftwareKeyStoreFile.keyCheckValue(other, otherPassphrase, "eu", 2));
    try (Hsm node1 = Hsms.open(HsmConfig.software(keyFile, PASSPHRASE));
        Hsm node2 = Hsms.open(HsmConfig.software(other, otherPassphrase))) {
      SecretKeyBytes key = randomKey(32);
      assertEquals(key, node2.unwrap(node1.wrap("eu", key)));
    }
  }

  @Test
  void copyZone_conflictingVersion_isRefusedAndCopiesNothing() throws Exception {
    Path other = directory.resolve("node2/zmk.p12");
    SoftwareKeyStoreFile.create(other, PASSPHRASE);
    SoftwareKeyStoreFile.createZone(other, PASSPHRASE, "eu");
    String before = SoftwareKeyStoreFile.keyCheckValue(other, PASSPHRASE, "eu", 1);

    assertEquals(
        Reason.REFUSED,
        reasonOf(
            () -> SoftwareKeyStoreFile.copyZone(keyFile, PASSPHRASE, other, PASSPHRASE, "eu")));
    assertEquals(before, SoftwareKeyStoreFile.keyCheckValue(other, PASSPHRASE, "eu", 1));
    assertNotEquals(before, SoftwareKeyStoreFile.keyCheckValue(keyFile, PASSPHRASE, "eu", 1));
    assertEquals(
        Reason.ZONE_NOT_HELD,
        reasonOf(
            () -> SoftwareKeyStoreFile.copyZone(keyFile, PASSPHRASE, other, PASSPHRASE, "apac")));
  }

  @Test
  void create_existingFile_isRefused() {
    assertEquals(Reason.REFUSED, reasonOf(() -> SoftwareKeyStoreFile.create(keyFile, PASSPHRASE)));
  }

  @Test
  void importKnownValue_withoutTheTestFlag_isRefused() {
    assertEquals(
        Reason.REFUSED,
        reasonOf(
            () ->
                SoftwareKeyStoreFile.importKnownValue(
                    keyFile, PASSPHRASE, "known", 1, randomKey(32))));
  }

  @Test
  void close_zeroesKeysAndLaterCallsFailWithHsmUnavailable() throws Exception {
    Hsm hsm = Hsms.open(HsmConfig.software(keyFile, PASSPHRASE));
    WrappedKey wrapped = hsm.wrap("eu", randomKey(32));
    hsm.close();

    assertEquals(Reason.HSM_UNAVAILABLE, reasonOf(() -> hsm.unwrap(wrapped)));
    assertFalse(hsm.describe().healthy());
  }
}
