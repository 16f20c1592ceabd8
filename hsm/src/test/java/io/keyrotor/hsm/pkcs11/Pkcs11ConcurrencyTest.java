package io.keyrotor.hsm.pkcs11;

import static io.keyrotor.hsm.pkcs11.Pkcs11HsmTest.randomKey;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.CONCURRENCY;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.USER_PIN;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.config;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 8 threads wrap and unwrap for a few seconds through one HSM: PKCS#11 sessions are not
 * thread-safe, so this crashes the JVM or corrupts results if the pool ever shares one. Prints the
 * rates it saw (SoftHSM2 against the software HSM) for the benchmark notes.
 */
class Pkcs11ConcurrencyTest {
  private static final int THREADS = 8;
  private static final Duration RUN_FOR = Duration.ofSeconds(3);
  private static final int MAX_ROUNDS_PER_THREAD = 20_000;

  @TempDir static Path directory;

  @BeforeAll
  static void zones() throws Exception {
    SoftHsmFixture.start();
    Pkcs11Ceremonies.createZone(token(CONCURRENCY), USER_PIN, "eu");
    Pkcs11Ceremonies.createZone(token(CONCURRENCY), USER_PIN, "us");
  }

  @Test
  void wrapAndUnwrap_from8ThreadsThroughOnePool_allRoundTrip() throws Exception {
    // Fewer sessions than threads, so borrowers also wait for each other.
    HsmConfig.Pkcs11 config =
        new HsmConfig.Pkcs11(
            TokenLocator.SOFTHSM2_MODULE,
            CONCURRENCY,
            USER_PIN,
            HsmConfig.DEFAULT_MECHANISM_PREFERENCE,
            4,
            Duration.ofSeconds(30));
    try (Hsm hsm = Hsms.open(config)) {
      long rounds = hammer(hsm);

      assertTrue(rounds > THREADS, "each thread completed rounds: " + rounds);
      assertTrue(hsm.describe().healthy());
    }
  }

  @Test
  void unwrapRate_softHsm2AgainstSoftware() throws Exception {
    Path keyFile = directory.resolve("zmk.p12");
    char[] passphrase = "rate".toCharArray();
    SoftwareKeyStoreFile.create(keyFile, passphrase);
    SoftwareKeyStoreFile.createZone(keyFile, passphrase, "eu");
    for (WrapMechanism mechanism : WrapMechanism.values()) {
      List<WrapMechanism> only = List.of(mechanism);
      try (Hsm pkcs11 = Hsms.open(config(CONCURRENCY).withMechanismPreference(only));
          Hsm software = Hsms.open(new HsmConfig.Software(keyFile, passphrase, only))) {
        System.out.printf(
            "unwraps/s, 1 thread, %s: SoftHSM2 %.0f, software %.0f%n",
            mechanism, unwrapRate(pkcs11), unwrapRate(software));
      }
    }
  }

  private static double unwrapRate(Hsm hsm) throws Exception {
    SecretKeyBytes kek = randomKey(32);
    WrappedKey wrapped = hsm.wrap("eu", kek);
    for (int i = 0; i < 200; i++) {
      hsm.unwrap(wrapped).destroy();
    }
    int count = 2_000;
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      hsm.unwrap(wrapped).destroy();
    }
    return count / ((System.nanoTime() - start) / 1e9);
  }

  private static long hammer(Hsm hsm) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    long deadline = System.nanoTime() + RUN_FOR.toNanos();
    try {
      List<Future<Long>> results = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        String zone = t % 2 == 0 ? "eu" : "us";
        results.add(
            pool.submit(
                () -> {
                  long rounds = 0;
                  while (System.nanoTime() < deadline && rounds < MAX_ROUNDS_PER_THREAD) {
                    SecretKeyBytes kek = randomKey(32);
                    WrappedKey wrapped = hsm.wrap(zone, kek);
                    SecretKeyBytes back = hsm.unwrap(wrapped);
                    assertEquals(kek, back);
                    assertEquals(32, hsm.randomBytes(32).length);
                    back.destroy();
                    kek.destroy();
                    rounds++;
                  }
                  return rounds;
                }));
      }
      long total = 0;
      for (Future<Long> result : results) {
        total += result.get(RUN_FOR.toSeconds() + 60, TimeUnit.SECONDS);
      }
      System.out.printf(
          "%d threads: %d wrap+unwrap rounds in %s through SoftHSM2 (%.0f rounds/s)%n",
          THREADS, total, RUN_FOR, total / (double) RUN_FOR.toSeconds());
      return total;
    } finally {
      pool.shutdownNow();
    }
  }
}
