package io.keyrotor.hsm.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The SoftHSM2 token directory of a test JVM (this module's tests and, through its test-jar, the
 * server's). SoftHSM reads {@code SOFTHSM2_CONF} once per process, so the build sets it in the
 * forked JVM's environment to {@code ${keyrotor.softhsm.dir}/softhsm2.conf}; the tests write that
 * file, for a fresh token directory beside it, before the JVM's first PKCS#11 call.
 */
public final class SoftHsmTokenDirectory {
  private SoftHsmTokenDirectory() {}

  /**
   * Fails unless {@code SOFTHSM2_CONF} is {@code ${keyrotor.softhsm.dir}/softhsm2.conf}; then
   * writes that file for a fresh, empty token directory, and returns the directory.
   *
   * @param plugin the Maven plugin that sets {@code SOFTHSM2_CONF} (surefire or failsafe)
   * @param pom the pom.xml that configures it, both for the failure message
   */
  public static Path fresh(String plugin, String pom) {
    String conf = System.getenv("SOFTHSM2_CONF");
    String dir = System.getProperty("keyrotor.softhsm.dir");
    if (conf == null || dir == null || !Path.of(conf).equals(Path.of(dir, "softhsm2.conf"))) {
      fail(
          "run these tests through Maven: "
              + plugin
              + " sets SOFTHSM2_CONF to ${keyrotor.softhsm.dir}/softhsm2.conf (see "
              + pom
              + "); got SOFTHSM2_CONF="
              + conf);
    }
    try {
      Path tokens = Path.of(dir, "tokens");
      deleteRecursively(tokens);
      Files.createDirectories(tokens);
      Files.writeString(
          Path.of(conf),
          "directories.tokendir = "
              + tokens.toAbsolutePath()
              + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
      return tokens;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
