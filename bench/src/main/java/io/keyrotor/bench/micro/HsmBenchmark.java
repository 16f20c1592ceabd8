package io.keyrotor.bench.micro;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.pkcs11.Pkcs11Ceremonies;
import io.keyrotor.hsm.pkcs11.TokenLocator;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
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
 * The HSMs through the hsm module's API, beyond {@link KekUnwrapBenchmark}'s one figure:
 *
 * <ul>
 *   <li>{@link #unwrapByMechanism}: unwraps per second of a 32-byte KEK, one thread, for each wrap
 *       mechanism, SoftHSM2 over PKCS#11 against the software HSM;
 *   <li>{@link #wrapUnwrapRandom}: rounds per second of wrap a fresh 32-byte key, unwrap it, draw
 *       32 random bytes, from concurrent threads (MicroMain runs it with 8) through a pool of 4
 *       PKCS#11 sessions on one SoftHSM2 token: what a cold node warming its KEK cache, or a zone
 *       master key rotation, asks of a token. {@code Pkcs11ConcurrencyTest} checks that such
 *       concurrent use is correct; this measures it.
 * </ul>
 *
 * <p>SoftHSM2 reads {@code SOFTHSM2_CONF} once per process: {@code scripts/bench} points it at a
 * fresh token directory before JMH starts, and each fork initialises its own token before its first
 * PKCS#11 call.
 */
public class HsmBenchmark {
  private static final char[] SO_PIN = "bench-so-1234".toCharArray();
  private static final char[] USER_PIN = "bench-user-5678".toCharArray();
  private static final String ZONE = "bench";

  /** One HSM restricted to one wrap mechanism, and a KEK wrapped with it. */
  @State(Scope.Benchmark)
  public static class OneMechanism {
    @Param({"software", "softhsm2"})
    public String hsm;

    @Param({"AES_KEY_WRAP_PAD", "AES_KEY_WRAP", "AES_GCM"})
    public String mechanism;

    Hsm instance;
    WrappedKey wrapped;
    Path directory;

    @Setup(Level.Trial)
    public void open() throws Exception {
      directory = Files.createTempDirectory("keyrotor-jmh-hsm");
      List<WrapMechanism> only = List.of(WrapMechanism.valueOf(mechanism));
      if (hsm.equals("software")) {
        Path file = directory.resolve("zmk.p12");
        SoftwareKeyStoreFile.create(file, USER_PIN);
        SoftwareKeyStoreFile.createZone(file, USER_PIN, ZONE);
        instance = Hsms.open(new HsmConfig.Software(file, USER_PIN, only));
      } else {
        String label = softHsm2Token();
        instance =
            Hsms.open(
                HsmConfig.pkcs11(TokenLocator.SOFTHSM2_MODULE, label, USER_PIN)
                    .withMechanismPreference(only));
      }
      wrapped = wrapFreshKey(instance);
      if (wrapped.mechanism() != only.get(0)) {
        throw new IllegalStateException(hsm + " wrapped with " + wrapped.mechanism());
      }
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
      instance.close();
      deleteRecursively(directory);
    }
  }

  /** One SoftHSM2 token behind a pool of 4 sessions, shared by every benchmark thread. */
  @State(Scope.Benchmark)
  public static class PooledToken {
    static final int SESSIONS = 4;

    Hsm instance;

    @Setup(Level.Trial)
    public void open() throws Exception {
      String label = softHsm2Token();
      instance =
          Hsms.open(
              new HsmConfig.Pkcs11(
                  TokenLocator.SOFTHSM2_MODULE,
                  label,
                  USER_PIN,
                  HsmConfig.DEFAULT_MECHANISM_PREFERENCE,
                  SESSIONS,
                  Duration.ofSeconds(30)));
    }

    @TearDown(Level.Trial)
    public void close() {
      instance.close();
    }
  }

  /** One unwrap; the plaintext KEK is zeroed at once. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public int unwrapByMechanism(OneMechanism state) throws Exception {
    try (SecretKeyBytes kek = state.instance.unwrap(state.wrapped)) {
      return kek.length();
    }
  }

  /** One round: wrap a fresh key, unwrap it, draw random bytes. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public int wrapUnwrapRandom(PooledToken pool) throws Exception {
    WrappedKey wrapped = wrapFreshKey(pool.instance);
    try (SecretKeyBytes back = pool.instance.unwrap(wrapped)) {
      return back.length() + pool.instance.randomBytes(32).length;
    }
  }

  /** A fresh SoftHSM2 token for this fork, holding zone {@code bench}; returns its label. */
  static String softHsm2Token() throws Exception {
    if (System.getenv("SOFTHSM2_CONF") == null) {
      throw new IllegalStateException(
          "SOFTHSM2_CONF is not set: run through scripts/bench --micro, which prepares SoftHSM2");
    }
    String label = "bench-hsm-" + ProcessHandle.current().pid();
    TokenLocator token = TokenLocator.softHsm2(label);
    Pkcs11Ceremonies.initToken(token, SO_PIN, USER_PIN);
    Pkcs11Ceremonies.createZone(token, USER_PIN, ZONE);
    return label;
  }

  private static WrappedKey wrapFreshKey(Hsm hsm) throws Exception {
    byte[] kek = new byte[32];
    new SecureRandom().nextBytes(kek);
    try (SecretKeyBytes key = SecretKeyBytes.takeOwnership(kek)) {
      return hsm.wrap(ZONE, key);
    }
  }

  private static void deleteRecursively(Path directory) throws Exception {
    try (var paths = Files.walk(directory)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
