package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKK_GENERIC_SECRET;

import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.GCM_PARAMS;

/**
 * Checks at open that the module's mechanisms produce the byte formats the software HSM (the JDK)
 * reads, with a throw-away session key of known value: a key wrapped on one node must unwrap on any
 * node holding the same zone master key, whatever its hardware.
 *
 * <p>Found this way: SoftHSM 2.6's {@code CKM_AES_KEY_WRAP_PAD} pads a key whose length is not a
 * multiple of 8 with zeros <em>before</em> RFC 5649 wrapping, so the original length is lost
 * (unwrapping gives the zero-padded key). Its output for multiples of 8 (every AES key) is exact
 * RFC 5649, and it unwraps standard RFC 5649 correctly.
 */
final class MechanismSelfTest {
  /** What the self-test found for one mechanism. */
  enum Outcome {
    /** Byte-compatible with the JDK for every key length. */
    EXACT,
    /** Byte-compatible for key lengths in multiples of 8 only. */
    MULTIPLES_OF_8_ONLY,
    /** Not compatible: the mechanism must not be used. */
    INCOMPATIBLE
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private MechanismSelfTest() {}

  static Outcome run(Session session, WrapMechanism mechanism, long code, boolean wrapKey)
      throws PKCS11Exception {
    byte[] kek = random(32);
    long wrappingKey =
        session.createObject(
            AttributeVector.newAESSecretKey()
                .token(false)
                .private_(false)
                .sensitive(false)
                .extractable(true)
                .encrypt(true)
                .decrypt(true)
                .wrap(true)
                .unwrap(true)
                .value(kek));
    try {
      SecretKeySpec jceKey = new SecretKeySpec(kek, "AES");
      boolean full = roundTrips(session, mechanism, code, wrapKey, wrappingKey, jceKey, 32);
      if (!full) {
        return Outcome.INCOMPATIBLE;
      }
      if (mechanism == WrapMechanism.AES_KEY_WRAP) {
        return Outcome.EXACT; // RFC 3394 takes multiples of 8 only anyway
      }
      return roundTrips(session, mechanism, code, wrapKey, wrappingKey, jceKey, 21)
          ? Outcome.EXACT
          : Outcome.MULTIPLES_OF_8_ONLY;
    } finally {
      Arrays.fill(kek, (byte) 0);
      session.destroyObject(wrappingKey);
    }
  }

  /** Whether the JDK reads back exactly what the module wrapped. */
  private static boolean roundTrips(
      Session session,
      WrapMechanism mechanism,
      long code,
      boolean wrapKey,
      long wrappingKey,
      SecretKeySpec jceKey,
      int length)
      throws PKCS11Exception {
    byte[] probe = random(length);
    try {
      byte[] wrapped;
      if (mechanism == WrapMechanism.AES_GCM) {
        byte[] nonce = random(ZoneMasterKeys.GCM_NONCE_BYTES);
        byte[] aad = ZoneMasterKeys.gcmAssociatedData("self-test", 1);
        byte[] sealed =
            session.encryptSingle(
                new Mechanism(code, new GCM_PARAMS(nonce, aad, ZoneMasterKeys.GCM_TAG_BITS)),
                wrappingKey,
                probe);
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(
            Cipher.DECRYPT_MODE, jceKey, new GCMParameterSpec(ZoneMasterKeys.GCM_TAG_BITS, nonce));
        cipher.updateAAD(aad);
        return Arrays.equals(probe, cipher.doFinal(sealed));
      }
      if (wrapKey) {
        long probeKey =
            session.createObject(
                AttributeVector.newSecretKey(CKK_GENERIC_SECRET)
                    .token(false)
                    .private_(false)
                    .sensitive(false)
                    .extractable(true)
                    .value(probe));
        try {
          wrapped = session.wrapKey(new Mechanism(code), wrappingKey, probeKey);
        } finally {
          session.destroyObject(probeKey);
        }
      } else {
        wrapped = session.encryptSingle(new Mechanism(code), wrappingKey, probe);
      }
      String transformation =
          mechanism == WrapMechanism.AES_KEY_WRAP ? "AES/KW/NoPadding" : "AES/KWP/NoPadding";
      Cipher cipher = Cipher.getInstance(transformation);
      cipher.init(Cipher.DECRYPT_MODE, jceKey);
      return Arrays.equals(probe, cipher.doFinal(wrapped));
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static byte[] random(int length) {
    byte[] bytes = new byte[length];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
