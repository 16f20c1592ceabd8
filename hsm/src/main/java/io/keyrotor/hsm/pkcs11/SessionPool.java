package io.keyrotor.hsm.pkcs11;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.xipki.pkcs11.wrapper.Session;

/**
 * A bounded pool of PKCS#11 sessions: PKCS#11 sessions are not thread-safe (sharing one between
 * threads crashed the JVM in a trial), so each concurrent operation borrows its own. At most {@code
 * maxSessions} are open; a caller waits up to {@code wait} for one, then gets {@code
 * HSM_UNAVAILABLE}. Sessions are opened lazily and reused (most recently returned first).
 */
final class SessionPool implements AutoCloseable {
  private final Pkcs11Token token;
  private final int maxSessions;
  private final Duration wait;
  private final Semaphore permits;
  private final ConcurrentLinkedDeque<Session> idle = new ConcurrentLinkedDeque<>();
  private volatile boolean closed;

  SessionPool(Pkcs11Token token, int maxSessions, Duration wait) {
    this.token = token;
    this.maxSessions = maxSessions;
    this.wait = wait;
    this.permits = new Semaphore(maxSessions, true);
  }

  /** A session for the caller's exclusive use until {@link #giveBack}. */
  Session borrow() throws HsmException {
    if (closed) {
      throw new HsmException(Reason.HSM_UNAVAILABLE, "the HSM is closed");
    }
    try {
      if (!permits.tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new HsmException(
            Reason.HSM_UNAVAILABLE,
            "all "
                + maxSessions
                + " sessions to "
                + token.locator()
                + " stayed busy for "
                + wait.toMillis()
                + " ms");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HsmException(Reason.HSM_UNAVAILABLE, "interrupted waiting for an HSM session");
    }
    Session session = idle.pollFirst();
    if (session != null) {
      return session;
    }
    try {
      return token.openSession();
    } catch (HsmException | RuntimeException e) {
      permits.release();
      throw e;
    }
  }

  /** Returns a borrowed session; a session that failed for good is closed instead. */
  void giveBack(Session session, boolean discard) {
    if (discard || closed) {
      Pkcs11Token.closeQuietly(session);
    } else {
      idle.addFirst(session);
      if (closed && idle.remove(session)) {
        Pkcs11Token.closeQuietly(session);
      }
    }
    permits.release();
  }

  /**
   * The pool's accounting.
   *
   * @param borrowed sessions lent out and not given back yet: zero whenever no operation is under
   *     way
   * @param idle sessions open and waiting in the pool: never more than {@code maxSessions}
   */
  record Counts(int borrowed, int idle) {}

  Counts counts() {
    return new Counts(maxSessions - permits.availablePermits(), idle.size());
  }

  /** Closes the idle sessions now and borrowed ones when they come back. Never logs out. */
  @Override
  public void close() {
    closed = true;
    Session session;
    while ((session = idle.pollFirst()) != null) {
      Pkcs11Token.closeQuietly(session);
    }
  }
}
