package io.keyrotor.hsm.pkcs11;

import static io.keyrotor.hsm.HsmTesting.randomKey;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.COMPAT;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.USER_PIN;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.config;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A key wrapped by the software HSM unwraps on a PKCS#11 token holding the same master key, and the
 * other way round, for every mechanism: the byte formats agree (RFC 5649, RFC 3394, nonce ||
 * ciphertext || tag with the ZMK label as associated data).
 */
class SoftwarePkcs11CompatibilityTest {
  private static final char[] PASSPHRASE = "compat-passphrase".toCharArray();

  @TempDir static Path directory;
  private static Path keyFile;

  @BeforeAll
  static void sameZoneMasterKeyInBoth() throws Exception {
    SoftHsmFixture.start();
    keyFile = directory.resolve("zmk.p12");
    SoftwareKeyStoreFile.create(keyFile, PASSPHRASE);
    SecretKeyBytes zoneMasterKey = randomKey(32);
    SoftHsmFixture.withKnownValueImport(
        () -> {
          SoftwareKeyStoreFile.importKnownValue(keyFile, PASSPHRASE, "eu", 1, zoneMasterKey);
          Pkcs11Ceremonies.importKnownValue(token(COMPAT), USER_PIN, "eu", 1, zoneMasterKey);
          return null;
        });
    zoneMasterKey.destroy();
  }

  /** The software HSM over the shared key file, wrapping with {@code mechanism} only. */
  private Hsm software(WrapMechanism mechanism) throws HsmException {
    return Hsms.open(new HsmConfig.Software(keyFile, PASSPHRASE, List.of(mechanism)));
  }

  /** The SoftHSM2 token holding the same key, wrapping with {@code mechanism} only. */
  private static Hsm pkcs11(WrapMechanism mechanism) throws HsmException {
    return Hsms.open(config(COMPAT).withMechanismPreference(List.of(mechanism)));
  }

  @ParameterizedTest
  @EnumSource(WrapMechanism.class)
  void softwareWrapped_unwrapsOnPkcs11AndBack(WrapMechanism mechanism) throws Exception {
    try (Hsm software = software(mechanism);
        Hsm pkcs11 = pkcs11(mechanism)) {
      assertEquals(software.keyCheckValue("eu", 1), pkcs11.keyCheckValue("eu", 1));
      for (int length : new int[] {16, 24, 32, 64}) {
        SecretKeyBytes kek = randomKey(length);
        assertEquals(kek, pkcs11.unwrap(software.wrap("eu", kek)));
        assertEquals(kek, software.unwrap(pkcs11.wrap("eu", kek)));
      }
      if (mechanism != WrapMechanism.AES_KEY_WRAP) {
        // SoftHSM unwraps any RFC 5649 length the JDK wraps.
        SecretKeyBytes odd = randomKey(21);
        assertEquals(odd, pkcs11.unwrap(software.wrap("eu", odd)));
      }
    }
  }

  @Test
  void softHsmKeyWrapPad_refusesLengthsItWouldNotKeep() throws Exception {
    // SoftHSM 2.6 zero-pads such keys before RFC 5649 wrapping and loses their length; the
    // self-test at open notices and wrap refuses rather than produce an incompatible blob.
    try (Pkcs11Hsm pkcs11 = Pkcs11Hsm.open(config(COMPAT))) {
      HsmException e = assertThrows(HsmException.class, () -> pkcs11.wrap("eu", randomKey(21)));

      assertEquals(Reason.INVALID_REQUEST, e.reason());
      assertTrue(
          pkcs11.mechanismDetails().get(WrapMechanism.AES_KEY_WRAP_PAD).contains("8-byte"),
          pkcs11.mechanismDetails().toString());
    }
  }

  @ParameterizedTest
  @EnumSource(WrapMechanism.class)
  void keyWrap_isDeterministicAcrossImplementations(WrapMechanism mechanism) throws Exception {
    try (Hsm software = software(mechanism);
        Hsm pkcs11 = pkcs11(mechanism)) {
      SecretKeyBytes kek = randomKey(32);
      WrappedKey fromSoftware = software.wrap("eu", kek);
      WrappedKey fromPkcs11 = pkcs11.wrap("eu", kek);

      // RFC 3394 and 5649 are deterministic: both produce the very same bytes. GCM uses a nonce.
      assertEquals(mechanism != WrapMechanism.AES_GCM, fromSoftware.equals(fromPkcs11));
    }
  }
}
