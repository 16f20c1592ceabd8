package io.keyrotor.server.testing;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.software.SoftwareHsm;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import io.keyrotor.server.hsm.ForwardingHsm;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HSM (a software HSM's key file with zone master keys, or a node's own HSM) with switches
 * for tests: it can be made unavailable for unwraps, it counts unwraps and remembers every
 * unwrapped key it handed out (to check that the cache zeroes them), it records the thread of every
 * wrap, and it can hold unwraps or wraps until released.
 */
public final class TestHsm extends ForwardingHsm {
  private final boolean ownsDelegate;

  /** False: every unwrap fails with HSM_UNAVAILABLE. */
  public volatile boolean available = true;

  /** When set, every unwrap waits for it. */
  public volatile CountDownLatch holdUnwraps;

  /** When set, every wrap waits for it (at most a minute). */
  public volatile CountDownLatch holdWraps;

  /** Counted down by every wrap, before it waits for {@link #holdWraps}. */
  public volatile CountDownLatch wrapEntered = new CountDownLatch(1);

  public final AtomicInteger unwraps = new AtomicInteger();
  public final List<SecretKeyBytes> handedOut = new CopyOnWriteArrayList<>();
  public final List<String> wrapThreads = new CopyOnWriteArrayList<>();

  private TestHsm(Hsm delegate, boolean ownsDelegate) {
    super(delegate);
    this.ownsDelegate = ownsDelegate;
  }

  /** A software HSM in {@code directory} holding the given zones; closing it closes that HSM. */
  public static TestHsm create(Path directory, String... zones) throws HsmException {
    Path file = directory.resolve("zmk.p12");
    char[] passphrase = "test passphrase".toCharArray();
    SoftwareKeyStoreFile.create(file, passphrase);
    for (String zone : zones) {
      SoftwareKeyStoreFile.createZone(file, passphrase, zone);
    }
    return new TestHsm(SoftwareHsm.open(HsmConfig.software(file, passphrase.clone())), true);
  }

  /** A node's own HSM behind the switches; closing this leaves it open (the node closes it). */
  public static TestHsm around(Hsm nodeHsm) {
    return new TestHsm(nodeHsm, false);
  }

  @Override
  public WrappedKey wrap(String zone, SecretKeyBytes key) throws HsmException {
    wrapThreads.add(Thread.currentThread().getName());
    wrapEntered.countDown();
    CountDownLatch hold = holdWraps;
    if (hold != null) {
      try {
        hold.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HsmException(HsmException.Reason.HSM_UNAVAILABLE, "interrupted");
      }
    }
    return delegate.wrap(zone, key);
  }

  @Override
  public SecretKeyBytes unwrap(WrappedKey wrapped) throws HsmException {
    if (!available) {
      throw new HsmException(HsmException.Reason.HSM_UNAVAILABLE, "test HSM switched off");
    }
    unwraps.incrementAndGet();
    CountDownLatch hold = holdUnwraps;
    if (hold != null) {
      try {
        hold.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HsmException(HsmException.Reason.HSM_UNAVAILABLE, "interrupted");
      }
    }
    SecretKeyBytes key = delegate.unwrap(wrapped);
    handedOut.add(key);
    return key;
  }

  @Override
  public void close() {
    if (ownsDelegate) {
      delegate.close();
    }
  }
}
