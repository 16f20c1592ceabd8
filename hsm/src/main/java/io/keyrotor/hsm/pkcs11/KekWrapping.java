package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_VALUE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKK_GENERIC_SECRET;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_GCM;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.GCM_PARAMS;

/**
 * The PKCS#11 calls that wrap and unwrap a KEK under a zone master key on one session (see {@link
 * Pkcs11Hsm} for why each is done as it is): {@code C_WrapKey} of a short-lived session key, or
 * {@code C_Encrypt}; {@code C_Decrypt}, or {@code C_UnwrapKey} to a session key that is read and
 * destroyed at once; AES-GCM with a nonce from the token and the ZMK label as associated data.
 */
final class KekWrapping {
  private static final Logger LOG = LoggerFactory.getLogger(KekWrapping.class);

  private final TokenLocator locator;

  KekWrapping(TokenLocator locator) {
    this.locator = locator;
  }

  byte[] wrap(
      Session session,
      long zoneMasterKey,
      ZoneMasterKeyId id,
      WrapMechanism mechanism,
      MechanismCapability capability,
      byte[] plaintext)
      throws PKCS11Exception {
    if (mechanism == WrapMechanism.AES_GCM) {
      return encryptGcm(session, zoneMasterKey, id, plaintext);
    }
    if (!capability.wrapKey()) {
      return session.encryptSingle(new Mechanism(capability.code()), zoneMasterKey, plaintext);
    }
    long sessionKey = session.createObject(sessionKeyTemplate().value(plaintext));
    try {
      return session.wrapKey(new Mechanism(capability.code()), zoneMasterKey, sessionKey);
    } finally {
      destroyQuietly(session, sessionKey);
    }
  }

  /** Unwraps; a failure that is not the token's unavailability is {@code UNWRAP_FAILED}. */
  byte[] unwrap(
      Session session,
      long zoneMasterKey,
      ZoneMasterKeyId id,
      WrapMechanism mechanism,
      MechanismCapability capability,
      byte[] ciphertext)
      throws PKCS11Exception, HsmException {
    try {
      if (mechanism == WrapMechanism.AES_GCM) {
        return decryptGcm(session, zoneMasterKey, id, ciphertext);
      }
      if (capability.decryptToUnwrap()) {
        return session.decryptSingle(new Mechanism(capability.code()), zoneMasterKey, ciphertext);
      }
      long sessionKey =
          session.unwrapKey(
              new Mechanism(capability.code()), zoneMasterKey, ciphertext, sessionKeyTemplate());
      try {
        byte[] value = session.getAttrValues(sessionKey, CKA_VALUE).value();
        if (value == null) {
          throw new HsmException(
              Reason.HSM_UNAVAILABLE,
              locator + " did not return the value of an unwrapped session key");
        }
        return value;
      } finally {
        destroyQuietly(session, sessionKey);
      }
    } catch (PKCS11Exception e) {
      if (Pkcs11Errors.isUnavailable(e)) {
        throw e;
      }
      throw unwrapFailed(id, mechanism, e);
    }
  }

  HsmException unwrapFailed(ZoneMasterKeyId id, WrapMechanism mechanism, PKCS11Exception e) {
    return new HsmException(
        Reason.UNWRAP_FAILED,
        "wrapped key failed to unwrap under zone master key "
            + id
            + " with "
            + mechanism
            + " on "
            + locator
            + (e == null ? "" : " [" + Pkcs11Errors.name(e) + "]")
            + " (tampered, truncated, or wrapped under another zone or version)",
        e);
  }

  private static byte[] encryptGcm(
      Session session, long zoneMasterKey, ZoneMasterKeyId id, byte[] plaintext)
      throws PKCS11Exception {
    byte[] nonce = session.generateRandom(ZoneMasterKeys.GCM_NONCE_BYTES);
    byte[] sealed = session.encryptSingle(gcm(nonce, id), zoneMasterKey, plaintext);
    byte[] out = new byte[nonce.length + sealed.length];
    System.arraycopy(nonce, 0, out, 0, nonce.length);
    System.arraycopy(sealed, 0, out, nonce.length, sealed.length);
    return out;
  }

  private byte[] decryptGcm(Session session, long zoneMasterKey, ZoneMasterKeyId id, byte[] wrapped)
      throws PKCS11Exception, HsmException {
    int minimum = ZoneMasterKeys.GCM_NONCE_BYTES + ZoneMasterKeys.GCM_TAG_BITS / 8 + 1;
    if (wrapped.length < minimum) {
      throw unwrapFailed(id, WrapMechanism.AES_GCM, null);
    }
    byte[] nonce = Arrays.copyOf(wrapped, ZoneMasterKeys.GCM_NONCE_BYTES);
    byte[] sealed = Arrays.copyOfRange(wrapped, ZoneMasterKeys.GCM_NONCE_BYTES, wrapped.length);
    return session.decryptSingle(gcm(nonce, id), zoneMasterKey, sealed);
  }

  private static Mechanism gcm(byte[] nonce, ZoneMasterKeyId id) {
    return new Mechanism(
        CKM_AES_GCM,
        new GCM_PARAMS(
            nonce,
            ZoneMasterKeys.gcmAssociatedData(id.zone(), id.version()),
            ZoneMasterKeys.GCM_TAG_BITS));
  }

  /** A short-lived session key holding a KEK: extractable so it can be wrapped or read. */
  private static AttributeVector sessionKeyTemplate() {
    return AttributeVector.newSecretKey(CKK_GENERIC_SECRET)
        .token(false)
        .private_(true)
        .sensitive(false)
        .extractable(true);
  }

  private static void destroyQuietly(Session session, long handle) {
    try {
      session.destroyObject(handle);
    } catch (PKCS11Exception e) {
      // A session object also dies with its session; log the code only.
      LOG.warn("could not destroy a temporary session key: {}", Pkcs11Errors.name(e));
    }
  }
}
