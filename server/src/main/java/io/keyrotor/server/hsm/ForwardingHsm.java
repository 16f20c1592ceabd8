package io.keyrotor.server.hsm;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmDescription;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import java.util.Set;

/**
 * An {@link Hsm} in front of another one, for wrappers that change a few calls (measuring them,
 * failing them on purpose) and pass the rest through: it forwards every call an HSM must implement
 * to {@link #delegate}. The optional calls (those {@link Hsm} gives a default) keep their default,
 * which calls back through this wrapper, so a subclass forwards them itself where it wants the
 * delegate's own answer.
 */
public abstract class ForwardingHsm implements Hsm {
  /** The HSM the calls pass through to. */
  protected final Hsm delegate;

  protected ForwardingHsm(Hsm delegate) {
    this.delegate = delegate;
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
    return delegate.unwrap(wrapped);
  }

  @Override
  public byte[] randomBytes(int count) throws HsmException {
    return delegate.randomBytes(count);
  }

  /** Closes the delegate. */
  @Override
  public void close() {
    delegate.close();
  }
}
