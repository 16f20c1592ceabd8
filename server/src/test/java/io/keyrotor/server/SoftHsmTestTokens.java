package io.keyrotor.server;

import static io.keyrotor.server.testing.ByteSearch.contains;
import static org.junit.jupiter.api.Assertions.fail;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.pkcs11.Pkcs11Ceremonies;
import io.keyrotor.hsm.pkcs11.TokenLocator;
import io.keyrotor.hsm.testing.SoftHsmTokenDirectory;
import io.keyrotor.server.hsm.SecretFiles;
import io.keyrotor.server.hsm.SoftHsmNodeFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Real SoftHSM2 tokens for the in-process integration tests of this module. SoftHSM reads {@code
 * SOFTHSM2_CONF} once per process and finds tokens when the module is first initialised, so all
 * nodes of an in-process cluster share one configuration (failsafe sets it, see {@code pom.xml})
 * with one token per node in one token directory, and every token is initialised (with {@code
 * softhsm2-util}) before this JVM's first PKCS#11 call. Node processes started by the script tests
 * have their own configuration per node instead.
 */
final class SoftHsmTestTokens {
  static final char[] SO_PIN = "it-so-pin-1234".toCharArray();
  static final char[] USER_PIN = "it-user-pin-5678".toCharArray();

  private static final Set<String> initialised = new LinkedHashSet<>();
  private static boolean configured;

  private SoftHsmTestTokens() {}

  /** The shared token directory of this JVM. */
  static Path tokenDirectory() {
    return Path.of(System.getProperty("keyrotor.softhsm.dir"), "tokens");
  }

  /**
   * Initialises tokens with these labels (each once per JVM). Must run before this JVM's first
   * PKCS#11 call that should see them.
   */
  static synchronized void initialise(List<String> labels) {
    if (!Files.isReadable(TokenLocator.SOFTHSM2_MODULE)) {
      fail(
          "SoftHSM2 is not installed (expected "
              + TokenLocator.SOFTHSM2_MODULE
              + "): run scripts/test, which installs it, or apt-get install softhsm2");
    }
    if (!configured) {
      SoftHsmTokenDirectory.fresh("failsafe", "server/pom.xml");
      configured = true;
    }
    try {
      for (String label : labels) {
        if (initialised.add(label)) {
          Pkcs11Ceremonies.initToken(TokenLocator.softHsm2(label), SO_PIN, USER_PIN);
        }
      }
    } catch (HsmException e) {
      fail("could not initialise SoftHSM2 tokens " + labels + ": " + e.getMessage(), e);
    }
  }

  /**
   * Points a node of a local cluster layout at a test token: its properties name the token, its
   * user PIN file holds the test PIN.
   */
  static void useToken(Path nodeDirectory, String label) throws IOException {
    SoftHsmNodeFiles files = new SoftHsmNodeFiles(nodeDirectory);
    files.useToken(TokenLocator.SOFTHSM2_MODULE, label);
    Files.deleteIfExists(files.userPin());
    SecretFiles.write(files.userPin(), USER_PIN);
  }

  /** The directory of the token with this label inside the shared token directory. */
  static Path directoryOf(String label) throws IOException {
    byte[] wanted = label.getBytes(StandardCharsets.UTF_8);
    try (Stream<Path> dirs = Files.list(tokenDirectory())) {
      for (Path dir : dirs.toList()) {
        Path object = dir.resolve("token.object");
        if (Files.exists(object) && contains(Files.readAllBytes(object), wanted)) {
          return dir;
        }
      }
    }
    throw new IOException("no token directory holds label " + label);
  }
}
