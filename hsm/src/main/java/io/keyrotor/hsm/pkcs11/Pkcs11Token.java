package io.keyrotor.hsm.pkcs11;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import java.util.ArrayList;
import java.util.List;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Slot;
import org.xipki.pkcs11.wrapper.Token;

/** A token found by label in a loaded module; opens sessions and logs in. */
final class Pkcs11Token {
  private final TokenLocator locator;
  private final Token token;

  private Pkcs11Token(TokenLocator locator, Token token) {
    this.locator = locator;
    this.token = token;
  }

  /**
   * Finds the token by its label.
   *
   * @throws HsmException {@code HSM_UNAVAILABLE} if the module cannot be loaded, or no token (or
   *     more than one) has that label
   */
  static Pkcs11Token find(TokenLocator locator) throws HsmException {
    PKCS11Module module = Pkcs11Modules.get(locator.modulePath());
    List<String> labels = new ArrayList<>();
    List<Token> matches = new ArrayList<>();
    try {
      for (Slot slot : module.getSlotList(true)) {
        Token token = slot.getToken();
        String label;
        try {
          if (!token.getTokenInfo().isTokenInitialized()) {
            continue;
          }
          label = token.getTokenInfo().getLabel().trim();
        } catch (PKCS11Exception e) {
          continue; // a slot whose token went away while we looked
        }
        labels.add(label);
        if (label.equals(locator.tokenLabel())) {
          matches.add(token);
        }
      }
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.unavailable("listing the slots of " + locator.modulePath(), e);
    }
    if (matches.isEmpty()) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          "no initialised token labelled '"
              + locator.tokenLabel()
              + "' in PKCS#11 module "
              + locator.modulePath()
              + " (tokens present: "
              + labels
              + "; for SoftHSM2 check SOFTHSM2_CONF and its token directory)");
    }
    if (matches.size() > 1) {
      throw new HsmException(
          Reason.HSM_UNAVAILABLE,
          matches.size()
              + " tokens are labelled '"
              + locator.tokenLabel()
              + "' in "
              + locator.modulePath()
              + "; labels must be unique");
    }
    return new Pkcs11Token(locator, matches.get(0));
  }

  TokenLocator locator() {
    return locator;
  }

  Token token() {
    return token;
  }

  /** Opens a read-write session. */
  Session openSession() throws HsmException {
    try {
      return token.openSession(true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.unavailable("opening a session on " + locator, e);
    }
  }

  /**
   * Logs the user in (all sessions of this process on the token share the login). Already logged in
   * is fine.
   */
  void loginUser(Session session, char[] pin) throws HsmException {
    login(session, PKCS11Constants.CKU_USER, pin, "user");
  }

  /**
   * Logs the security officer in. If the user is logged in (another component of this process uses
   * the token), logs out first: that component logs in again on its next call.
   */
  void loginSecurityOfficer(Session session, char[] pin) throws HsmException {
    try {
      session.login(PKCS11Constants.CKU_SO, pin);
      return;
    } catch (PKCS11Exception e) {
      if (!Pkcs11Errors.is(e, PKCS11Constants.CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
          && !Pkcs11Errors.is(e, PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN)) {
        throw loginFailed("security officer", e);
      }
    }
    logoutQuietly(session);
    login(session, PKCS11Constants.CKU_SO, pin, "security officer");
  }

  /**
   * Runs {@code call} in a session of its own on the token {@code locator} names, with the user
   * logged in; the session is closed afterwards. A PKCS#11 failure is {@code HSM_UNAVAILABLE}
   * naming {@code what}.
   */
  static <T> T asUser(TokenLocator locator, char[] pin, String what, SessionCall<T> call)
      throws HsmException {
    Pkcs11Token token = find(locator);
    Session session = token.openSession();
    try {
      token.loginUser(session, pin);
      return call.call(session);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.unavailable(what + " in " + locator, e);
    } finally {
      closeQuietly(session);
    }
  }

  static void logoutQuietly(Session session) {
    try {
      session.logout();
    } catch (PKCS11Exception ignored) {
      // not logged in
    }
  }

  static void closeQuietly(Session session) {
    if (session == null) {
      return;
    }
    try {
      session.closeSession();
    } catch (PKCS11Exception ignored) {
      // already closed
    }
  }

  private void login(Session session, long userType, char[] pin, String who) throws HsmException {
    try {
      session.login(userType, pin);
    } catch (PKCS11Exception e) {
      if (!Pkcs11Errors.is(e, PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN)) {
        throw loginFailed(who, e);
      }
    }
  }

  private HsmException loginFailed(String who, PKCS11Exception e) {
    long code = e.getErrorCode();
    String why;
    if (code == PKCS11Constants.CKR_PIN_INCORRECT) {
      why = "the " + who + " PIN is wrong";
    } else if (code == PKCS11Constants.CKR_PIN_LOCKED) {
      why = "the " + who + " PIN is locked (too many wrong attempts)";
    } else if (code == PKCS11Constants.CKR_PIN_LEN_RANGE) {
      why = "the " + who + " PIN has a length the token does not accept";
    } else if (code == PKCS11Constants.CKR_USER_PIN_NOT_INITIALIZED) {
      why = "the token has no user PIN yet (initialise the token first)";
    } else if (code == PKCS11Constants.CKR_USER_ANOTHER_ALREADY_LOGGED_IN) {
      why = "another user type is logged in to this token in this process";
    } else {
      why = "login as " + who + " failed";
    }
    return new HsmException(
        Reason.HSM_UNAVAILABLE,
        "cannot log in to " + locator + ": " + why + " [" + Pkcs11Errors.name(e) + "]",
        e);
  }
}
