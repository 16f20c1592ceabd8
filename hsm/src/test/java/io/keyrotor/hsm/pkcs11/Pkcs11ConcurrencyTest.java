package io.keyrotor.hsm.pkcs11;

import static io.keyrotor.hsm.HsmTesting.randomKey;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.CONCURRENCY;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.USER_PIN;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The promise of the session pool: any number of threads may use one token through one {@link Hsm}
 * at once. PKCS#11 sessions are not thread-safe (sharing one between threads crashed the JVM in a
 * trial, or would mix up results), so every concurrent operation borrows a session of its own, at
 * most {@code maxSessions} are ever open, and every session comes back, from failed operations too.
 * How fast this goes is measured by the bench module's {@code HsmBenchmark} ({@code
 * scripts/bench}), not here.
 */
class Pkcs11ConcurrencyTest {
  private static final int THREADS = 8;

  /** Fewer sessions than threads, so borrowers also wait for each other. */
  private static final int MAX_SESSIONS = 4;

  private static final int ROUNDS_PER_THREAD = 150;

  /** Every this many rounds a thread also unwraps tampered bytes, which must fail cleanly. */
  private static final int FAILING_UNWRAP_EVERY = 10;

  @BeforeAll
  static void zones() throws Exception {
    SoftHsmFixture.start();
    Pkcs11Ceremonies.createZone(token(CONCURRENCY), USER_PIN, "eu");
    Pkcs11Ceremonies.createZone(token(CONCURRENCY), USER_PIN, "us");
  }

  @Test
  void eightThreadsThroughFourSessions_everyRoundTripCorrect_everySessionGivenBack()
      throws Exception {
    HsmConfig.Pkcs11 config =
        new HsmConfig.Pkcs11(
            TokenLocator.SOFTHSM2_MODULE,
            CONCURRENCY,
            USER_PIN,
            HsmConfig.DEFAULT_MECHANISM_PREFERENCE,
            MAX_SESSIONS,
            Duration.ofSeconds(30));
    try (Hsm hsm = Hsms.open(config)) {
      Pkcs11Hsm pkcs11 = assertInstanceOf(Pkcs11Hsm.class, hsm);

      int rounds = hammer(hsm, THREADS, ROUNDS_PER_THREAD);

      assertEquals(THREADS * ROUNDS_PER_THREAD, rounds, "every round of every thread completed");
      SessionPool.Counts sessions = pkcs11.sessionCounts();
      assertEquals(0, sessions.borrowed(), "every borrowed session was given back");
      assertTrue(
          sessions.idle() >= 1 && sessions.idle() <= MAX_SESSIONS,
          "open sessions stay within the bound: " + sessions.idle());
      assertTrue(hsm.describe().healthy(), "the HSM stays healthy");
    }
  }

  /**
   * {@code threads} threads, released together, each doing {@code rounds} rounds of: wrap a fresh
   * 32-byte key under its zone, unwrap it, compare, draw random bytes; now and then an unwrap of
   * tampered bytes that must fail with UNWRAP_FAILED. Returns the rounds completed.
   */
  private static int hammer(Hsm hsm, int threads, int rounds) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CyclicBarrier start = new CyclicBarrier(threads);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String zone = t % 2 == 0 ? "eu" : "us";
        results.add(
            pool.submit(
                () -> {
                  start.await(60, TimeUnit.SECONDS);
                  for (int round = 0; round < rounds; round++) {
                    roundTrip(hsm, zone, round % FAILING_UNWRAP_EVERY == 0);
                  }
                  return rounds;
                }));
      }
      int total = 0;
      for (Future<Integer> result : results) {
        // Bounded only so that a hang fails instead of blocking the build; not a speed check.
        total += result.get(5, TimeUnit.MINUTES);
      }
      return total;
    } finally {
      pool.shutdownNow();
    }
  }

  private static void roundTrip(Hsm hsm, String zone, boolean alsoTampered) throws Exception {
    try (SecretKeyBytes kek = randomKey(32)) {
      WrappedKey wrapped = hsm.wrap(zone, kek);
      assertEquals(zone, wrapped.zone(), "wrapped under the zone asked for");
      try (SecretKeyBytes back = hsm.unwrap(wrapped)) {
        assertEquals(kek, back, "unwrap returns the key that was wrapped");
      }
      assertEquals(32, hsm.randomBytes(32).length);
      if (alsoTampered) {
        byte[] bytes = wrapped.ciphertext();
        bytes[bytes.length - 1] ^= 0x01;
        WrappedKey tampered =
            new WrappedKey(
                wrapped.zone(), wrapped.zoneMasterKeyVersion(), wrapped.mechanism(), bytes);
        HsmException refused = assertThrows(HsmException.class, () -> hsm.unwrap(tampered));
        assertEquals(HsmException.Reason.UNWRAP_FAILED, refused.reason());
      }
    }
  }
}
