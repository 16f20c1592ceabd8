package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_EC_POINT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_LABEL;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKK_EC;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_ECDSA;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_EC_KEY_PAIR_GEN;

import io.keyrotor.hsm.AuditSigningKeys;
import io.keyrotor.hsm.HsmException;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Audit signing keys as token objects: an ECDSA P-256 pair per version, both halves labelled {@code
 * keyrotor-audit/<version>}; the private key is a sensitive, non-extractable token object that may
 * only sign, the public key a token object read for its point.
 */
final class AuditKeyObjects {
  private AuditKeyObjects() {}

  /** Private key handles by version (needs a user session to see private objects). */
  static SortedMap<Integer, Long> privateKeys(Session session) throws PKCS11Exception {
    return byVersion(session, AttributeVector.newECPrivateKey().token(true));
  }

  private static SortedMap<Integer, Long> byVersion(Session session, AttributeVector template)
      throws PKCS11Exception {
    SortedMap<Integer, Long> found = new TreeMap<>();
    for (long handle : session.findAllObjectsSingle(template)) {
      String label = session.getStringAttrValue(handle, CKA_LABEL);
      AuditSigningKeys.parseLabel(label).ifPresent(v -> found.putIfAbsent(v, handle));
    }
    return Collections.unmodifiableSortedMap(found);
  }

  /** Generates version {@code version} on the token. */
  static void generate(Session session, int version) throws PKCS11Exception {
    String label = AuditSigningKeys.label(version);
    KeyPairTemplate template = new KeyPairTemplate(CKK_EC);
    template
        .publicKey()
        .token(true)
        .private_(false)
        .ecParams(AuditSigningKeys.p256Parameters())
        .verify(true)
        .encrypt(false)
        .wrap(false)
        .label(label);
    template
        .privateKey()
        .token(true)
        .private_(true)
        .sensitive(true)
        .extractable(false)
        .sign(true)
        .decrypt(false)
        .unwrap(false)
        .derive(false)
        .label(label);
    session.generateKeyPair(new Mechanism(CKM_EC_KEY_PAIR_GEN), template);
  }

  /** The SubjectPublicKeyInfo of version {@code version}, from its public key object. */
  static byte[] publicKey(Session session, TokenLocator where, int version)
      throws PKCS11Exception, HsmException {
    Long handle = byVersion(session, AttributeVector.newECPublicKey().token(true)).get(version);
    if (handle == null) {
      throw AuditSigningKeys.notHeld(where.toString(), version);
    }
    byte[] point = session.getAttrValues(handle, CKA_EC_POINT).ecPoint();
    return AuditSigningKeys.subjectPublicKeyInfo(point);
  }

  /** SHA256withECDSA of {@code message} with version {@code version}: r || s. */
  static byte[] sign(Session session, TokenLocator where, int version, byte[] message)
      throws PKCS11Exception, HsmException {
    Long handle = privateKeys(session).get(version);
    if (handle == null) {
      throw AuditSigningKeys.notHeld(where.toString(), version);
    }
    // CKM_ECDSA over a digest made here: every module that signs with EC offers it.
    byte[] signature =
        session.signSingle(new Mechanism(CKM_ECDSA), handle, AuditSigningKeys.sha256(message));
    if (signature.length != AuditSigningKeys.SIGNATURE_BYTES) {
      throw new HsmException(
          HsmException.Reason.UNSUPPORTED_MECHANISM,
          where + " returned a " + signature.length + "-byte ECDSA signature, not r || s");
    }
    return signature;
  }
}
