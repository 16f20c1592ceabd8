package io.keyrotor.server.config;

import static io.keyrotor.server.config.MinimalNodeConfig.base;
import static io.keyrotor.server.config.MinimalNodeConfig.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.hsm.WrapMechanism;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The hsm.* settings: which HSM, where its secret comes from, which mechanisms. */
class HsmSettingsTest {
  @Test
  void software_keyFileResolvedAgainstTheConfigDirectory_defaultMechanisms() throws Exception {
    HsmSettings hsm = parse(base()).hsm();
    assertEquals("software", hsm.kind());
    assertEquals(Path.of("/etc/keyrotor/zmk.p12"), hsm.softwareKeyFile());
    assertNull(hsm.secret().fileOrNull());
    assertEquals("KEYROTOR_TEST_PASSPHRASE", hsm.secret().environmentVariableOrNull());
    assertEquals(
        List.of(WrapMechanism.AES_KEY_WRAP_PAD, WrapMechanism.AES_KEY_WRAP, WrapMechanism.AES_GCM),
        hsm.mechanisms());
    assertEquals("software key file /etc/keyrotor/zmk.p12", hsm.describe());
  }

  @Test
  void pkcs11_moduleTokenAndPinFile() throws Exception {
    Properties p = base();
    p.remove("hsm.software.key-file");
    p.remove("hsm.software.passphrase-env");
    p.setProperty("hsm.kind", "pkcs11");
    p.setProperty("hsm.pkcs11.module", "/usr/lib/softhsm/libsofthsm2.so");
    p.setProperty("hsm.pkcs11.token-label", "keyrotor-n1");
    p.setProperty("hsm.pkcs11.pin-file", "hsm/pin");
    p.setProperty("hsm.mechanisms", "AES_GCM");
    HsmSettings hsm = parse(p).hsm();
    assertEquals(Path.of("/usr/lib/softhsm/libsofthsm2.so"), hsm.pkcs11Module());
    assertEquals("keyrotor-n1", hsm.tokenLabel());
    assertEquals(Path.of("/etc/keyrotor/hsm/pin"), hsm.secret().fileOrNull());
    assertEquals(List.of(WrapMechanism.AES_GCM), hsm.mechanisms());
  }

  @Test
  void refused_unknownKind_unknownMechanism_bothOrNeitherSecretSource() {
    Properties kind = base();
    kind.setProperty("hsm.kind", "cloud");
    assertMessage(kind, "test.properties: hsm.kind must be software or pkcs11, not cloud");

    Properties mechanism = base();
    mechanism.setProperty("hsm.mechanisms", "AES_GCM,ROT13");
    assertTrue(
        assertThrows(ConfigException.class, () -> parse(mechanism))
            .getMessage()
            .startsWith("test.properties: hsm.mechanisms: unknown mechanism ROT13 (known: "));

    Properties both = base();
    both.setProperty("hsm.software.passphrase-file", "pass");
    assertMessage(
        both,
        "test.properties: set exactly one of hsm.software.passphrase-file and"
            + " hsm.software.passphrase-env");

    Properties neither = base();
    neither.remove("hsm.software.passphrase-env");
    assertMessage(
        neither,
        "test.properties: set exactly one of hsm.software.passphrase-file and"
            + " hsm.software.passphrase-env");

    Properties noKeyFile = base();
    noKeyFile.remove("hsm.software.key-file");
    assertMessage(noKeyFile, "test.properties: hsm.software.key-file is required");
  }

  private static void assertMessage(Properties p, String message) {
    assertEquals(message, assertThrows(ConfigException.class, () -> parse(p)).getMessage());
  }
}
