package io.keyrotor.bench.micro;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.pkcs11.Pkcs11Ceremonies;
import io.keyrotor.hsm.pkcs11.TokenLocator;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * KEK unwraps per second through the hsm module's API (issue 3): SoftHSM2 over PKCS#11 against the
 * software HSM, both unwrapping a 32-byte KEK wrapped under a zone master key with the mechanism
 * each prefers (RFC 5649 key wrap). A node unwraps once per key version and then serves from its
 * cache, so this bounds how fast a cold node warms up, not the data plane.
 *
 * <p>SoftHSM2 reads {@code SOFTHSM2_CONF} once per process: {@code scripts/bench} points it at a
 * fresh token directory before JMH starts, and each fork initialises its own token before its first
 * PKCS#11 call.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class KekUnwrapBenchmark {
  private static final char[] SO_PIN = "bench-so-1234".toCharArray();
  private static final char[] USER_PIN = "bench-user-5678".toCharArray();

  @Param({"software", "softhsm2"})
  public String hsm;

  private Hsm instance;
  private WrappedKey wrapped;
  private Path directory;

  @Setup(Level.Trial)
  public void open() throws Exception {
    directory = Files.createTempDirectory("keyrotor-jmh-hsm");
    if (hsm.equals("software")) {
      Path file = directory.resolve("zmk.p12");
      SoftwareKeyStoreFile.create(file, USER_PIN);
      SoftwareKeyStoreFile.createZone(file, USER_PIN, "bench");
      instance = Hsms.open(HsmConfig.software(file, USER_PIN));
    } else {
      if (System.getenv("SOFTHSM2_CONF") == null) {
        throw new IllegalStateException(
            "SOFTHSM2_CONF is not set: run through scripts/bench --micro, which prepares SoftHSM2");
      }
      String label = "bench-" + ProcessHandle.current().pid();
      TokenLocator token = TokenLocator.softHsm2(label);
      Pkcs11Ceremonies.initToken(token, SO_PIN, USER_PIN);
      Pkcs11Ceremonies.createZone(token, USER_PIN, "bench");
      instance = Hsms.open(HsmConfig.pkcs11(TokenLocator.SOFTHSM2_MODULE, label, USER_PIN));
    }
    byte[] kek = new byte[32];
    new SecureRandom().nextBytes(kek);
    try (SecretKeyBytes key = SecretKeyBytes.takeOwnership(kek)) {
      wrapped = instance.wrap("bench", key);
    }
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    instance.close();
    try (var paths = Files.walk(directory)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** One unwrap; the plaintext KEK is zeroed at once. */
  @Benchmark
  public int unwrap() throws Exception {
    try (SecretKeyBytes kek = instance.unwrap(wrapped)) {
      return kek.length();
    }
  }
}
