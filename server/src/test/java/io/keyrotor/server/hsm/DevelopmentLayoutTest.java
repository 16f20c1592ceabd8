package io.keyrotor.server.hsm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.server.config.HsmSettings;
import io.keyrotor.server.config.HsmSettings.SecretSource;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A node warns at start when its software HSM's passphrase lies beside the key file. */
class DevelopmentLayoutTest {
  private static final Path HSM = Path.of("/var/lib/keyrotor/n1/hsm");

  private static HsmSettings software(SecretSource secret) {
    return new HsmSettings("software", HSM.resolve("zmk.p12"), null, "", secret, List.of());
  }

  @Test
  void passphraseFileBesideTheKeyFile_warnsThatTheLayoutIsForDevelopmentOnly() {
    String warning =
        DevelopmentLayout.warning(
                software(new SecretSource("passphrase", HSM.resolve("passphrase"), null)))
            .orElseThrow();
    assertTrue(warning.startsWith("DEVELOPMENT LAYOUT"), warning);
    assertTrue(warning.contains("development only"), warning);
  }

  @Test
  void passphraseElsewhereOrFromTheEnvironment_orAPkcs11Hsm_noWarning() {
    assertTrue(
        DevelopmentLayout.warning(
                software(new SecretSource("passphrase", Path.of("/run/secrets/zmk.pass"), null)))
            .isEmpty());
    assertTrue(
        DevelopmentLayout.warning(software(new SecretSource("passphrase", null, "ZMK_PASS")))
            .isEmpty());
    assertTrue(
        DevelopmentLayout.warning(
                new HsmSettings(
                    "pkcs11",
                    null,
                    Path.of("/usr/lib/softhsm/libsofthsm2.so"),
                    "n1",
                    new SecretSource("pin", HSM.resolve("user-pin"), null),
                    List.of()))
            .isEmpty());
  }
}
