package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKS_RO_USER_FUNCTIONS;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKS_RW_USER_FUNCTIONS;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.ZoneMasterKeyId;
import java.util.Arrays;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The sessions of one {@link Pkcs11Hsm} and the handles of its zone master keys: one session per
 * concurrent operation from a bounded {@link SessionPool}, plus one login session held for the
 * HSM's lifetime, because closing the last session of a token logs out every session. If a login is
 * lost anyway (another component logged out, the token was reset), the next operation logs in
 * again, finds the handles again and retries once. Tracks health: module, token, session or login
 * problems make it unhealthy until an operation succeeds again.
 */
final class TokenSessions {
  private static final Logger LOG = LoggerFactory.getLogger(TokenSessions.class);

  private final Pkcs11Token token;
  private final TokenLocator locator;
  private final char[] userPin;
  private final SessionPool pool;
  private final Object loginLock = new Object();
  private Session loginSession;
  private volatile Map<ZoneMasterKeyId, Long> handles = Map.of();
  private volatile boolean healthy = true;
  private volatile boolean closed;

  /** Takes over {@code loginSession} (logged in) and {@code userPin} (zeroed on close). */
  TokenSessions(Pkcs11Token token, char[] userPin, SessionPool pool, Session loginSession) {
    this.token = token;
    this.locator = token.locator();
    this.userPin = userPin;
    this.pool = pool;
    this.loginSession = loginSession;
  }

  /** Healthy and not closed. */
  boolean healthy() {
    return healthy && !closed;
  }

  void markUnhealthy() {
    healthy = false;
  }

  /** The zone master keys the last scan found, by id. */
  Map<ZoneMasterKeyId, Long> lastScan() {
    return handles;
  }

  SessionPool.Counts counts() {
    return pool.counts();
  }

  /**
   * Runs {@code call} on a pooled session. A lost login, session or handle is recovered once (log
   * in again, find the handles again); what still fails is {@code HSM_UNAVAILABLE}.
   */
  <T> T withSession(String what, SessionCall<T> call) throws HsmException {
    for (int attempt = 0; ; attempt++) {
      if (closed) {
        throw new HsmException(Reason.HSM_UNAVAILABLE, "the HSM " + locator + " is closed");
      }
      Session session = pool.borrow();
      boolean discard = false;
      try {
        T result = call.call(session);
        healthy = true;
        return result;
      } catch (PKCS11Exception e) {
        discard = Pkcs11Errors.isSessionGone(e);
        if (attempt == 0 && Pkcs11Errors.isRecoverable(e)) {
          LOG.info("{} failed with {}; logging in again", what, Pkcs11Errors.name(e));
          recoverLogin();
          handles = Map.of();
          continue;
        }
        healthy = false;
        throw Pkcs11Errors.unavailable(what + " on " + locator, e);
      } catch (HsmException e) {
        if (e.reason() == Reason.HSM_UNAVAILABLE) {
          healthy = false;
        }
        throw e;
      } catch (RuntimeException e) {
        // The wrapper reports some native failures as runtime exceptions.
        discard = true;
        healthy = false;
        throw new HsmException(
            Reason.HSM_UNAVAILABLE, what + " on " + locator + " failed: " + e.getClass(), e);
      } finally {
        pool.giveBack(session, discard);
      }
    }
  }

  /** Makes sure the user is logged in, reopening the login session if it is gone. */
  void recoverLogin() throws HsmException {
    synchronized (loginLock) {
      if (closed) {
        throw new HsmException(Reason.HSM_UNAVAILABLE, "the HSM " + locator + " is closed");
      }
      try {
        long state = loginSession.getSessionInfo().getState();
        if (state == CKS_RW_USER_FUNCTIONS || state == CKS_RO_USER_FUNCTIONS) {
          return;
        }
      } catch (PKCS11Exception e) {
        Pkcs11Token.closeQuietly(loginSession);
        loginSession = token.openSession();
      }
      try {
        token.loginUser(loginSession, userPin);
      } catch (HsmException e) {
        healthy = false;
        throw e;
      }
    }
  }

  /** Finds the token's zone master keys again and remembers their handles. */
  Map<ZoneMasterKeyId, Long> rescan(Session session) throws PKCS11Exception {
    Map<ZoneMasterKeyId, Long> found = ZoneKeyObjects.scan(session);
    handles = found;
    return found;
  }

  /** The handle of one zone master key (scanning again if it is not known), or ZONE_NOT_HELD. */
  long handleOf(Session session, ZoneMasterKeyId id) throws PKCS11Exception, HsmException {
    Long handle = handles.get(id);
    if (handle == null) {
      handle = rescan(session).get(id);
    }
    if (handle == null) {
      throw ZoneKeyObjects.notHeld(locator, id);
    }
    return handle;
  }

  /** Closes the sessions (never logs out, never finalises the module) and zeroes the PIN. */
  void close() {
    synchronized (loginLock) {
      if (closed) {
        return;
      }
      closed = true;
      pool.close();
      Pkcs11Token.closeQuietly(loginSession);
      loginSession = null;
      Arrays.fill(userPin, '\0');
    }
  }
}
