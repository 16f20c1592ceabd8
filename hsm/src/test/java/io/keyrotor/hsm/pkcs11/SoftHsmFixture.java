package io.keyrotor.hsm.pkcs11;

import static org.junit.jupiter.api.Assertions.fail;

import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.KnownValueImport;
import io.keyrotor.hsm.testing.SoftHsmTokenDirectory;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Real SoftHSM2 tokens for this test run: a fresh token directory and {@code softhsm2.conf} under
 * {@code target/softhsm}, at the path surefire put in {@code SOFTHSM2_CONF} (SoftHSM reads it once
 * per process, so it cannot be set from Java). Every token the tests use is initialised before the
 * first PKCS#11 call, because SoftHSM2 discovers tokens when the module is initialised.
 */
public final class SoftHsmFixture {
  public static final char[] SO_PIN = "so-pin-1234".toCharArray();
  public static final char[] USER_PIN = "user-pin-5678".toCharArray();

  public static final String MATRIX = "matrix";
  public static final String FAILURES = "failures";
  public static final String EXTRACT = "extract";
  public static final String SHARE_FROM = "share-from";
  public static final String SHARE_TO = "share-to";
  public static final String COMPAT = "compat";
  public static final String CONCURRENCY = "concurrency";
  public static final String RELOGIN = "relogin";

  private static final List<String> TOKENS =
      List.of(MATRIX, FAILURES, EXTRACT, SHARE_FROM, SHARE_TO, COMPAT, CONCURRENCY, RELOGIN);

  private static boolean started;

  private SoftHsmFixture() {}

  /** Writes the configuration and initialises every token, once per test JVM. */
  public static synchronized void start() {
    if (started) {
      return;
    }
    if (!Files.isReadable(TokenLocator.SOFTHSM2_MODULE) || !onPath("softhsm2-util")) {
      fail(
          "SoftHSM2 is not installed (expected "
              + TokenLocator.SOFTHSM2_MODULE
              + " and softhsm2-util on the PATH): run scripts/test, which installs it (Debian"
              + " package softhsm2), or apt-get install softhsm2");
    }
    SoftHsmTokenDirectory.fresh("surefire", "hsm/pom.xml");
    for (String label : TOKENS) {
      try {
        Pkcs11Ceremonies.initToken(token(label), SO_PIN, USER_PIN);
      } catch (HsmException e) {
        fail("could not initialise SoftHSM2 token " + label + ": " + e.getMessage(), e);
      }
    }
    started = true;
  }

  public static TokenLocator token(String label) {
    return TokenLocator.softHsm2(label);
  }

  public static HsmConfig.Pkcs11 config(String label) {
    return HsmConfig.pkcs11(TokenLocator.SOFTHSM2_MODULE, label, USER_PIN);
  }

  /** Runs {@code action} with known-value imports allowed. */
  public static <T> T withKnownValueImport(ThrowingSupplier<T> action) throws HsmException {
    System.setProperty(KnownValueImport.ALLOW_PROPERTY, "true");
    try {
      return action.get();
    } finally {
      System.clearProperty(KnownValueImport.ALLOW_PROPERTY);
    }
  }

  /** A supplier that may fail with an HSM error. */
  public interface ThrowingSupplier<T> {
    T get() throws HsmException;
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String directory : path.split(File.pathSeparator, -1)) {
      if (Files.isExecutable(Path.of(directory, program))) {
        return true;
      }
    }
    return false;
  }
}
