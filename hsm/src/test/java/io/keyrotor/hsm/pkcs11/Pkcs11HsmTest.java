package io.keyrotor.hsm.pkcs11;

import static io.keyrotor.hsm.HsmTesting.randomKey;
import static io.keyrotor.hsm.HsmTesting.reasonOf;
import static io.keyrotor.hsm.HsmTesting.unwrapReasonAs;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.FAILURES;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.MATRIX;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.RELOGIN;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.USER_PIN;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.config;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.token;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmDescription;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xipki.pkcs11.wrapper.Session;

class Pkcs11HsmTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  @BeforeAll
  static void tokens() throws HsmException {
    SoftHsmFixture.start();
    Pkcs11Ceremonies.createZone(token(MATRIX), USER_PIN, "eu");
    Pkcs11Ceremonies.createZone(token(MATRIX), USER_PIN, "us");
    Pkcs11Ceremonies.createZone(token(FAILURES), USER_PIN, "eu");
    Pkcs11Ceremonies.createZone(token(FAILURES), USER_PIN, "eu");
    Pkcs11Ceremonies.createZone(token(FAILURES), USER_PIN, "us");
    Pkcs11Ceremonies.createZone(token(RELOGIN), USER_PIN, "eu");
  }

  @ParameterizedTest
  @EnumSource(WrapMechanism.class)
  void wrapThenUnwrap_roundTripsWithEachMechanism(WrapMechanism mechanism) throws Exception {
    try (Hsm hsm = Hsms.open(config(MATRIX).withMechanismPreference(List.of(mechanism)))) {
      for (int length : new int[] {16, 32, 64}) {
        SecretKeyBytes key = randomKey(length);
        WrappedKey wrapped = hsm.wrap("eu", key);

        assertEquals(mechanism, wrapped.mechanism());
        assertEquals(1, wrapped.zoneMasterKeyVersion());
        assertEquals(key, hsm.unwrap(wrapped));
      }
    }
  }

  @Test
  void wrap_usesTheFirstSupportedPreferredMechanism() throws Exception {
    HsmConfig.Pkcs11 gcmFirst =
        config(MATRIX)
            .withMechanismPreference(List.of(WrapMechanism.AES_GCM, WrapMechanism.AES_KEY_WRAP));
    try (Hsm defaults = Hsms.open(config(MATRIX));
        Hsm gcm = Hsms.open(gcmFirst)) {
      SecretKeyBytes key = randomKey(32);

      assertEquals(WrapMechanism.AES_KEY_WRAP_PAD, defaults.wrap("eu", key).mechanism());
      assertEquals(WrapMechanism.AES_GCM, gcm.wrap("eu", key).mechanism());
      assertEquals(
          List.of(WrapMechanism.AES_GCM, WrapMechanism.AES_KEY_WRAP), gcm.describe().mechanisms());
    }
  }

  @Test
  void unwrap_acceptsEverySupportedMechanismWhateverThePreference() throws Exception {
    try (Hsm defaults = Hsms.open(config(MATRIX));
        Hsm gcmOnly =
            Hsms.open(config(MATRIX).withMechanismPreference(List.of(WrapMechanism.AES_GCM)))) {
      SecretKeyBytes key = randomKey(32);
      WrappedKey wrapped = defaults.wrap("eu", key);

      assertEquals(WrapMechanism.AES_KEY_WRAP_PAD, wrapped.mechanism());
      assertEquals(key, gcmOnly.unwrap(wrapped));
    }
  }

  @Test
  void describe_namesModuleTokenMechanismsAndHealth() throws Exception {
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(config(MATRIX))) {
      HsmDescription description = hsm.describe();

      assertEquals("pkcs11", description.kind());
      assertEquals(TokenLocator.SOFTHSM2_MODULE.toString(), description.module());
      assertEquals(MATRIX, description.tokenLabel());
      assertEquals(HsmConfig.DEFAULT_MECHANISM_PREFERENCE, description.mechanisms());
      assertTrue(description.healthy());
      // SoftHSM 2.6 offers RFC 5649 as CKM_AES_KEY_WRAP_PAD (0x210A), for C_WrapKey only.
      assertTrue(
          hsm.mechanismDetails().get(WrapMechanism.AES_KEY_WRAP_PAD).startsWith("CKM_AES_KEY_WRAP"),
          hsm.mechanismDetails().toString());
      assertEquals(Set.of("eu", "us"), hsm.zones());
      assertEquals(1, hsm.currentZoneMasterKeyVersion("eu"));
    }
  }

  @Test
  void wrap_usesTheNewestZoneMasterKeyVersion() throws Exception {
    try (Hsm hsm = Hsms.open(config(FAILURES))) {
      WrappedKey wrapped = hsm.wrap("eu", randomKey(32));

      assertEquals(2, wrapped.zoneMasterKeyVersion());
      assertEquals(2, hsm.currentZoneMasterKeyVersion("eu"));
    }
  }

  @ParameterizedTest
  @EnumSource(WrapMechanism.class)
  void unwrap_tamperedCiphertext_failsWithUnwrapFailed(WrapMechanism mechanism) throws Exception {
    try (Hsm hsm = Hsms.open(config(FAILURES).withMechanismPreference(List.of(mechanism)))) {
      WrappedKey wrapped = hsm.wrap("eu", randomKey(32));
      byte[] ciphertext = wrapped.ciphertext();
      ciphertext[ciphertext.length / 2] ^= 0x01;
      WrappedKey tampered =
          new WrappedKey(wrapped.zone(), wrapped.zoneMasterKeyVersion(), mechanism, ciphertext);
      byte[] shortened = new byte[ciphertext.length - 8];
      System.arraycopy(wrapped.ciphertext(), 0, shortened, 0, shortened.length);
      WrappedKey truncated =
          new WrappedKey(wrapped.zone(), wrapped.zoneMasterKeyVersion(), mechanism, shortened);

      assertEquals(Reason.UNWRAP_FAILED, reasonOf(() -> hsm.unwrap(tampered)));
      assertEquals(Reason.UNWRAP_FAILED, reasonOf(() -> hsm.unwrap(truncated)));
      assertEquals(
          Reason.UNWRAP_FAILED,
          reasonOf(() -> hsm.unwrap(new WrappedKey("eu", 2, mechanism, new byte[3]))));
      assertEquals(
          Reason.UNWRAP_FAILED,
          reasonOf(() -> hsm.unwrap(new WrappedKey("eu", 2, mechanism, new byte[0]))));
      assertTrue(hsm.describe().healthy(), "bad input does not make the HSM unhealthy");
    }
  }

  @ParameterizedTest
  @EnumSource(WrapMechanism.class)
  void unwrap_underAnotherHeldZoneOrVersion_failsWithUnwrapFailed(WrapMechanism mechanism)
      throws Exception {
    try (Hsm hsm = Hsms.open(config(FAILURES).withMechanismPreference(List.of(mechanism)))) {
      WrappedKey wrapped = hsm.wrap("eu", randomKey(32));
      WrappedKey otherZone = new WrappedKey("us", 1, mechanism, wrapped.ciphertext());
      WrappedKey olderVersion = new WrappedKey("eu", 1, mechanism, wrapped.ciphertext());

      assertEquals(Reason.UNWRAP_FAILED, reasonOf(() -> hsm.unwrap(otherZone)));
      assertEquals(Reason.UNWRAP_FAILED, reasonOf(() -> hsm.unwrap(olderVersion)));
    }
  }

  @Test
  void wrapOrUnwrap_zoneNotHeld_failsWithZoneNotHeld() throws Exception {
    try (Hsm hsm = Hsms.open(config(FAILURES))) {
      WrappedKey wrapped = hsm.wrap("eu", randomKey(32));

      assertEquals(Reason.ZONE_NOT_HELD, reasonOf(() -> hsm.wrap("apac", randomKey(32))));
      assertEquals(Reason.ZONE_NOT_HELD, unwrapReasonAs(hsm, wrapped, "apac", 1));
      assertEquals(Reason.ZONE_NOT_HELD, unwrapReasonAs(hsm, wrapped, "eu", 9));
      assertEquals(Reason.ZONE_NOT_HELD, reasonOf(() -> hsm.currentZoneMasterKeyVersion("apac")));
    }
  }

  @Test
  void open_wrongPin_failsWithHsmUnavailableAndAClearMessage() {
    HsmConfig.Pkcs11 wrongPin =
        HsmConfig.pkcs11(TokenLocator.SOFTHSM2_MODULE, FAILURES, "not-the-pin".toCharArray());

    HsmException e = assertThrows(HsmException.class, () -> Hsms.open(wrongPin));

    assertEquals(Reason.HSM_UNAVAILABLE, e.reason());
    assertTrue(e.getMessage().contains("user PIN is wrong"), e.getMessage());
    assertTrue(e.getMessage().contains("'" + FAILURES + "'"), e.getMessage());
    assertFalse(e.getMessage().contains("not-the-pin"), e.getMessage());
  }

  @Test
  void open_unknownTokenOrModule_failsWithHsmUnavailableAndAClearMessage() {
    HsmException noToken =
        assertThrows(HsmException.class, () -> Hsms.open(config("no-such-token")));
    HsmException noModule =
        assertThrows(
            HsmException.class,
            () ->
                Hsms.open(
                    HsmConfig.pkcs11(Path.of("/nonexistent/libpkcs11.so"), MATRIX, USER_PIN)));

    assertEquals(Reason.HSM_UNAVAILABLE, noToken.reason());
    assertTrue(
        noToken.getMessage().contains("no initialised token labelled 'no-such-token'"),
        noToken.getMessage());
    assertEquals(Reason.HSM_UNAVAILABLE, noModule.reason());
    assertTrue(noModule.getMessage().contains("does not exist"), noModule.getMessage());
  }

  @Test
  void operations_afterClose_failWithHsmUnavailable() throws Exception {
    Hsm hsm = Hsms.open(config(MATRIX));
    WrappedKey wrapped = hsm.wrap("eu", randomKey(32));
    hsm.close();

    assertEquals(Reason.HSM_UNAVAILABLE, reasonOf(() -> hsm.unwrap(wrapped)));
    assertEquals(Reason.HSM_UNAVAILABLE, reasonOf(() -> hsm.wrap("eu", randomKey(32))));
    assertFalse(hsm.describe().healthy());
  }

  @Test
  void unwrap_afterAnotherComponentLoggedOut_logsInAgain() throws Exception {
    try (Hsm hsm = Hsms.open(config(RELOGIN))) {
      SecretKeyBytes key = randomKey(32);
      WrappedKey wrapped = hsm.wrap("eu", key);
      Pkcs11Token token = Pkcs11Token.find(token(RELOGIN));
      Session other = token.openSession();
      try {
        other.logout(); // logs out every session of this process on the token
      } finally {
        Pkcs11Token.closeQuietly(other);
      }

      assertEquals(key, hsm.unwrap(wrapped));
      assertTrue(hsm.describe().healthy());
    }
  }

  @Test
  void checkHealth_loginLostAndPinChanged_unhealthyUntilThePinWorksAgain() throws Exception {
    try (Hsm hsm = Hsms.open(config(RELOGIN))) {
      assertTrue(hsm.checkHealth());
      Pkcs11Token token = Pkcs11Token.find(token(RELOGIN));
      Session other = token.openSession();
      char[] changed = "changed-pin-0000".toCharArray();
      try {
        other.setPIN(USER_PIN, changed); // the user is logged in (by the HSM) for this process
        other.logout(); // and now no longer: the token answers, but shows no private objects

        assertFalse(hsm.checkHealth());
        assertFalse(hsm.describe().healthy());
      } finally {
        other.login(org.xipki.pkcs11.wrapper.PKCS11Constants.CKU_USER, changed);
        other.setPIN(changed, USER_PIN);
        Pkcs11Token.closeQuietly(other);
      }
      assertTrue(hsm.checkHealth());
      assertTrue(hsm.describe().healthy());
    }
  }

  @Test
  void wrapAndUnwrap_leaveNoKekBytesInTheTokenFiles() throws Exception {
    byte[] kek = new byte[32];
    RANDOM.nextBytes(kek);
    try (Hsm hsm = Hsms.open(config(MATRIX))) {
      for (WrapMechanism mechanism : WrapMechanism.values()) {
        try (Hsm only = Hsms.open(config(MATRIX).withMechanismPreference(List.of(mechanism)))) {
          only.unwrap(only.wrap("eu", SecretKeyBytes.copyOf(kek))).destroy();
        }
      }
      hsm.unwrap(hsm.wrap("us", SecretKeyBytes.copyOf(kek))).destroy();
    }
    Path tokens = Path.of(System.getProperty("keyrotor.softhsm.dir"), "tokens");
    try (Stream<Path> files = Files.walk(tokens)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        byte[] content = Files.readAllBytes(file);
        assertFalse(contains(content, kek), "KEK bytes found in " + file);
      }
    }
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  @Test
  void randomBytes_returnsTheCountAsked() throws Exception {
    try (Hsm hsm = Hsms.open(config(MATRIX))) {
      byte[] first = hsm.randomBytes(32);

      assertEquals(32, first.length);
      assertFalse(Arrays.equals(first, hsm.randomBytes(32)));
      assertArrayEquals(new byte[0], hsm.randomBytes(0));
    }
  }
}
