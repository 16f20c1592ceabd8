package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_MODULUS;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_PUBLIC_EXPONENT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKG_MGF1_SHA1;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKG_MGF1_SHA256;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKK_RSA;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_RSA_PKCS_OAEP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_SHA256;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_SHA_1;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_ARGUMENTS_BAD;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_KEY_NOT_WRAPPABLE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_KEY_UNEXTRACTABLE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_MECHANISM_PARAM_INVALID;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_OAEP_PARAMS;

/**
 * The three steps of the share-zone ceremony (see {@link Pkcs11Ceremonies}): a transfer key pair on
 * the receiving token, RSA-OAEP wrapping under it on the sending token (its security officer
 * trusting the receiver's public key for one session), and the unwrap into the receiving token with
 * matching key check values.
 */
final class ZoneShare {
  private static final Logger LOG = LoggerFactory.getLogger(ZoneShare.class);

  private static final BigInteger RSA_PUBLIC_EXPONENT = BigInteger.valueOf(65537);

  private ZoneShare() {}

  /** See {@link Pkcs11Ceremonies#prepareShare}. */
  static ShareRequest prepareShare(
      TokenLocator receiver, char[] receiverUserPin, String zone, int version) throws HsmException {
    ZoneMasterKeyId id = ZoneMasterKeys.requireValidId(zone, version);
    return Pkcs11Token.asUser(
        receiver,
        receiverUserPin,
        "preparing to receive " + id,
        session -> {
          if (ZoneKeyObjects.scan(session).containsKey(id)) {
            throw new HsmException(
                Reason.REFUSED, receiver + " already holds zone master key " + id);
          }
          for (long stale : findTransferKeys(session, id, null)) {
            session.destroyObject(stale);
          }
          byte[] keyId = session.generateRandom(16);
          KeyPairTemplate template = new KeyPairTemplate(CKK_RSA);
          template
              .publicKey()
              .token(false)
              .modulusBits(Pkcs11Ceremonies.SHARE_RSA_BITS)
              .publicExponent(RSA_PUBLIC_EXPONENT)
              .wrap(true)
              .encrypt(false)
              .verify(false);
          template
              .privateKey()
              .token(true)
              .private_(true)
              .sensitive(true)
              .extractable(false)
              .unwrap(true)
              .decrypt(false)
              .sign(false)
              .label(shareKeyLabel(id))
              .id(keyId);
          PKCS11KeyPair pair =
              session.generateKeyPair(new Mechanism(CKM_RSA_PKCS_KEY_PAIR_GEN), template);
          AttributeVector publicKey =
              session.getAttrValues(pair.getPublicKey(), CKA_MODULUS, CKA_PUBLIC_EXPONENT);
          session.destroyObject(pair.getPublicKey());
          LOG.info("{} is ready to receive zone master key {}", receiver, id);
          return new ShareRequest(
              id, receiver.tokenLabel(), keyId, publicKey.modulus(), publicKey.publicExponent());
        });
  }

  /** See {@link Pkcs11Ceremonies#exportShare}. */
  static ShareBundle exportShare(
      TokenLocator sender, char[] senderSoPin, char[] senderUserPin, ShareRequest request)
      throws HsmException {
    ZoneMasterKeyId id = request.zoneMasterKey();
    Pkcs11Token token = Pkcs11Token.find(sender);
    Session session = token.openSession();
    Long trusted = null;
    try {
      token.loginSecurityOfficer(session, senderSoPin);
      trusted =
          session.createObject(
              AttributeVector.newPublicKey(CKK_RSA)
                  .token(false)
                  .private_(false)
                  .modulus(request.modulus())
                  .publicExponent(request.publicExponent())
                  .wrap(true)
                  .encrypt(false)
                  .verify(false)
                  .trusted(true)
                  .label("keyrotor-share-to/" + request.receiverTokenLabel()));
      session.logout();
      token.loginUser(session, senderUserPin);
      long zoneMasterKey = ZoneKeyObjects.find(session, sender, id);
      String checkValue = ZoneKeyObjects.checkValue(session, zoneMasterKey);
      String hash = "SHA-256";
      byte[] wrapped;
      try {
        wrapped = session.wrapKey(oaep(hash), trusted, zoneMasterKey);
      } catch (PKCS11Exception e) {
        if (!Pkcs11Errors.is(e, CKR_MECHANISM_PARAM_INVALID)
            && !Pkcs11Errors.is(e, CKR_ARGUMENTS_BAD)) {
          throw e;
        }
        LOG.info(
            "{} refuses RSA-OAEP with SHA-256 ({}); using SHA-1", sender, Pkcs11Errors.name(e));
        hash = "SHA-1";
        wrapped = session.wrapKey(oaep(hash), trusted, zoneMasterKey);
      }
      LOG.info(
          "wrapped zone master key {} (check value {}) for token '{}' with RSA-OAEP {}",
          id,
          checkValue,
          request.receiverTokenLabel(),
          hash);
      return new ShareBundle(id, request.keyId(), hash, wrapped, checkValue);
    } catch (PKCS11Exception e) {
      if (Pkcs11Errors.is(e, CKR_KEY_UNEXTRACTABLE) || Pkcs11Errors.is(e, CKR_KEY_NOT_WRAPPABLE)) {
        throw new HsmException(
            Reason.REFUSED,
            "zone master key "
                + id
                + " in "
                + sender
                + " may not leave its token ["
                + Pkcs11Errors.name(e)
                + "]; it was created with ZoneMasterKeyExport.NEVER",
            e);
      }
      throw Pkcs11Errors.unavailable("exporting " + id + " from " + sender, e);
    } finally {
      if (trusted != null) {
        try {
          session.destroyObject(trusted);
        } catch (PKCS11Exception e) {
          LOG.debug("the trusted transfer key goes with its session: {}", Pkcs11Errors.name(e));
        }
      }
      Pkcs11Token.closeQuietly(session);
    }
  }

  /**
   * See {@link Pkcs11Ceremonies#importShare(TokenLocator, char[], ShareBundle,
   * ZoneMasterKeyExport)}.
   */
  static String importShare(
      TokenLocator receiver, char[] receiverUserPin, ShareBundle bundle, ZoneMasterKeyExport export)
      throws HsmException {
    ZoneMasterKeyId id = bundle.zoneMasterKey();
    return Pkcs11Token.asUser(
        receiver,
        receiverUserPin,
        "importing " + id,
        session -> {
          Long existing = ZoneKeyObjects.scan(session).get(id);
          if (existing != null) {
            String held = ZoneKeyObjects.checkValue(session, existing);
            if (held.equals(bundle.senderCheckValue())) {
              return held;
            }
            throw new HsmException(
                Reason.REFUSED,
                receiver
                    + " already holds a different zone master key "
                    + id
                    + " (check value "
                    + held
                    + ", sender's "
                    + bundle.senderCheckValue()
                    + ")");
          }
          List<Long> transferKeys = findTransferKeys(session, id, bundle.keyId());
          if (transferKeys.isEmpty()) {
            throw new HsmException(
                Reason.REFUSED,
                receiver
                    + " has no transfer key waiting for "
                    + id
                    + " (run prepareShare on it first, and use that request's bundle)");
          }
          long privateKey = transferKeys.get(0);
          long imported;
          try {
            imported =
                session.unwrapKey(
                    oaep(bundle.oaepHash()),
                    privateKey,
                    bundle.wrappedKey(),
                    ZoneKeyObjects.template(id, export));
          } catch (PKCS11Exception e) {
            if (Pkcs11Errors.isUnavailable(e)) {
              throw e;
            }
            throw new HsmException(
                Reason.UNWRAP_FAILED,
                "the share bundle for " + id + " did not unwrap [" + Pkcs11Errors.name(e) + "]",
                e);
          }
          String checkValue = ZoneKeyObjects.checkValue(session, imported);
          if (!checkValue.equals(bundle.senderCheckValue())) {
            session.destroyObject(imported);
            throw new HsmException(
                Reason.UNWRAP_FAILED,
                "received zone master key "
                    + id
                    + " has check value "
                    + checkValue
                    + " but the sender's is "
                    + bundle.senderCheckValue()
                    + "; it was not kept");
          }
          session.destroyObject(privateKey);
          LOG.info("{} now holds zone master key {} (check value {})", receiver, id, checkValue);
          return checkValue;
        });
  }

  private static List<Long> findTransferKeys(Session session, ZoneMasterKeyId id, byte[] keyId)
      throws PKCS11Exception {
    AttributeVector template =
        AttributeVector.newPrivateKey(CKK_RSA).token(true).label(shareKeyLabel(id));
    if (keyId != null) {
      template.id(keyId);
    }
    List<Long> found = new ArrayList<>();
    for (long handle : session.findAllObjectsSingle(template)) {
      found.add(handle);
    }
    return found;
  }

  private static String shareKeyLabel(ZoneMasterKeyId id) {
    return Pkcs11Ceremonies.SHARE_KEY_LABEL_PREFIX + id.zone() + "/" + id.version();
  }

  private static Mechanism oaep(String hash) throws HsmException {
    return switch (hash) {
      case "SHA-256" ->
          new Mechanism(CKM_RSA_PKCS_OAEP, new RSA_PKCS_OAEP_PARAMS(CKM_SHA256, CKG_MGF1_SHA256));
      case "SHA-1" ->
          new Mechanism(CKM_RSA_PKCS_OAEP, new RSA_PKCS_OAEP_PARAMS(CKM_SHA_1, CKG_MGF1_SHA1));
      default ->
          throw new HsmException(
              Reason.UNSUPPORTED_MECHANISM, "unknown RSA-OAEP hash '" + hash + "' in share bundle");
    };
  }
}
