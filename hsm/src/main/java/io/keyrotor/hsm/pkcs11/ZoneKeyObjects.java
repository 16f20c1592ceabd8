package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_LABEL;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_ECB;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/** Zone master keys as token objects: their template, finding them, their check value. */
final class ZoneKeyObjects {
  private static final Logger LOG = LoggerFactory.getLogger(ZoneKeyObjects.class);

  private ZoneKeyObjects() {}

  /**
   * The attributes of a ZMK token object: AES-256, private, sensitive (its value is never
   * readable), usable to wrap, unwrap, encrypt and decrypt (AES-GCM wrapping and the check value
   * need the last two), labelled {@code keyrotor-zmk/<zone>/<version>}.
   */
  static AttributeVector template(ZoneMasterKeyId id, ZoneMasterKeyExport export) {
    return AttributeVector.newAESSecretKey()
        .token(true)
        .private_(true)
        .sensitive(true)
        .extractable(export == ZoneMasterKeyExport.TRUSTED_WRAP_ONLY)
        .wrapWithTrusted(true)
        .encrypt(true)
        .decrypt(true)
        .wrap(true)
        .unwrap(true)
        .sign(false)
        .verify(false)
        .derive(false)
        .label(ZoneMasterKeys.label(id.zone(), id.version()));
  }

  /** Every ZMK on the token by id (needs a user session to see private objects). */
  static Map<ZoneMasterKeyId, Long> scan(Session session) throws PKCS11Exception {
    Map<ZoneMasterKeyId, Long> found = new TreeMap<>();
    long[] handles = session.findAllObjectsSingle(AttributeVector.newAESSecretKey().token(true));
    for (long handle : handles) {
      String label = session.getStringAttrValue(handle, CKA_LABEL);
      ZoneMasterKeyId id = ZoneMasterKeys.parseLabel(label).orElse(null);
      if (id == null) {
        continue;
      }
      Long previous = found.putIfAbsent(id, handle);
      if (previous != null) {
        LOG.warn("two token objects are labelled {}; using the first found", label);
      }
    }
    return Collections.unmodifiableMap(found);
  }

  /** The handle of one ZMK, or {@code ZONE_NOT_HELD}. */
  static long find(Session session, TokenLocator where, ZoneMasterKeyId id)
      throws PKCS11Exception, HsmException {
    Long handle = scan(session).get(id);
    if (handle == null) {
      throw notHeld(where, id);
    }
    return handle;
  }

  static HsmException notHeld(TokenLocator where, ZoneMasterKeyId id) {
    return new HsmException(
        Reason.ZONE_NOT_HELD,
        where + " holds no zone master key " + id.zone() + "/" + id.version());
  }

  /** The key check value: AES-ECB of a zero block inside the token, first 3 bytes in hex. */
  static String checkValue(Session session, long handle) throws PKCS11Exception {
    byte[] block = session.encryptSingle(new Mechanism(CKM_AES_ECB), handle, new byte[16]);
    String value = ZoneMasterKeys.formatCheckValue(block);
    Arrays.fill(block, (byte) 0);
    return value;
  }
}
