package io.keyrotor.server.hsm;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.server.metrics.NodeMetrics;

/**
 * An {@link Hsm} that times every call that reaches the device (wrap, unwrap, random bytes, key
 * check values, audit key generation and signatures, the health probe) and counts the failed ones,
 * by operation name only: never a zone's key, a KEK or its owner. Everything else passes straight
 * through.
 */
public final class MeasuredHsm extends ForwardingHsm {
  private final NodeMetrics metrics;

  public MeasuredHsm(Hsm delegate, NodeMetrics metrics) {
    super(delegate);
    this.metrics = metrics;
  }

  /** One HSM call; its result or its exception, measured either way. */
  @FunctionalInterface
  private interface Call<T> {
    T run() throws HsmException;
  }

  private <T> T measured(String operation, Call<T> call) throws HsmException {
    long start = System.nanoTime();
    boolean failed = true;
    try {
      T result = call.run();
      failed = false;
      return result;
    } finally {
      metrics.hsmCall(operation, System.nanoTime() - start, failed);
    }
  }

  @Override
  public WrappedKey wrap(String zone, SecretKeyBytes key) throws HsmException {
    return measured("wrap", () -> delegate.wrap(zone, key));
  }

  @Override
  public WrappedKey wrap(String zone, int zoneMasterKeyVersion, SecretKeyBytes key)
      throws HsmException {
    return measured("wrap", () -> delegate.wrap(zone, zoneMasterKeyVersion, key));
  }

  @Override
  public java.util.SortedMap<String, java.util.SortedSet<Integer>> zoneMasterKeyVersions()
      throws HsmException {
    return delegate.zoneMasterKeyVersions();
  }

  @Override
  public boolean checkHealth() {
    long start = System.nanoTime();
    boolean healthy = delegate.checkHealth();
    metrics.hsmCall("health-check", System.nanoTime() - start, !healthy);
    return healthy;
  }

  @Override
  public SecretKeyBytes unwrap(WrappedKey wrapped) throws HsmException {
    return measured("unwrap", () -> delegate.unwrap(wrapped));
  }

  @Override
  public String keyCheckValue(String zone, int version) throws HsmException {
    return measured("key-check-value", () -> delegate.keyCheckValue(zone, version));
  }

  @Override
  public byte[] randomBytes(int count) throws HsmException {
    return measured("random", () -> delegate.randomBytes(count));
  }

  @Override
  public java.util.SortedSet<Integer> auditKeyVersions() throws HsmException {
    return delegate.auditKeyVersions();
  }

  @Override
  public int generateAuditKey() throws HsmException {
    return measured("generate-audit-key", delegate::generateAuditKey);
  }

  @Override
  public byte[] auditPublicKey(int version) throws HsmException {
    return delegate.auditPublicKey(version);
  }

  @Override
  public byte[] signAudit(int version, byte[] message) throws HsmException {
    return measured("sign-audit", () -> delegate.signAudit(version, message));
  }
}
