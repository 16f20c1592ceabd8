package io.keyrotor.server.dataplane;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmDescription;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.software.SoftwareHsm;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real software HSM (a key file with zone master keys) with switches for tests: it can be made
 * unavailable, it counts unwraps, it remembers every unwrapped key it handed out (to check that the
 * cache zeroes them), and it can hold unwraps until released.
 */
final class TestHsm implements Hsm {
  private final SoftwareHsm delegate;
  volatile boolean available = true;
  volatile CountDownLatch holdUnwraps;
  final AtomicInteger unwraps = new AtomicInteger();
  final List<SecretKeyBytes> handedOut = new CopyOnWriteArrayList<>();

  private TestHsm(SoftwareHsm delegate) {
    this.delegate = delegate;
  }

  /** A software HSM in {@code directory} holding the given zones. */
  static TestHsm create(Path directory, String... zones) throws HsmException {
    Path file = directory.resolve("zmk.p12");
    char[] passphrase = "test passphrase".toCharArray();
    SoftwareKeyStoreFile.create(file, passphrase);
    for (String zone : zones) {
      SoftwareKeyStoreFile.createZone(file, passphrase, zone);
    }
    return new TestHsm(SoftwareHsm.open(HsmConfig.software(file, passphrase.clone())));
  }

  @Override
  public HsmDescription describe() {
    return delegate.describe();
  }

  @Override
  public Set<String> zones() {
    return delegate.zones();
  }

  @Override
  public int currentZoneMasterKeyVersion(String zone) throws HsmException {
    return delegate.currentZoneMasterKeyVersion(zone);
  }

  @Override
  public WrappedKey wrap(String zone, SecretKeyBytes key) throws HsmException {
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
  public byte[] randomBytes(int count) throws HsmException {
    return delegate.randomBytes(count);
  }

  @Override
  public void close() {
    delegate.close();
  }
}
