package io.keyrotor.hsm.pkcs11;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_DECRYPT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_ENCRYPT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_UNWRAP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKF_WRAP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_GCM;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP_KWP;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP_PAD;

import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.WrapMechanism;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.MechanismInfo;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * How one wrap mechanism is done on a module: its PKCS#11 code, whether it wraps with {@code
 * C_WrapKey} (else {@code C_Encrypt}), whether it unwraps with {@code C_Decrypt} (else {@code
 * C_UnwrapKey} to a session key that is read and destroyed), and whether it keeps the length of
 * keys that are not multiples of 8 bytes.
 */
record MechanismCapability(
    long code, String name, boolean wrapKey, boolean decryptToUnwrap, boolean anyLength) {
  private static final Logger LOG = LoggerFactory.getLogger(MechanismCapability.class);

  String describe() {
    return name
        + " (0x"
        + Long.toHexString(code)
        + "): "
        + (wrapKey ? "C_WrapKey" : "C_Encrypt")
        + " / "
        + (decryptToUnwrap ? "C_Decrypt" : "C_UnwrapKey to a session key, read, destroy")
        + (anyLength ? "" : "; wraps keys of 8-byte multiples only");
  }

  MechanismCapability withAnyLength(boolean value) {
    return new MechanismCapability(code, name, wrapKey, decryptToUnwrap, value);
  }

  /**
   * The mechanisms the token offers for wrapping and unwrapping, kept if they pass the self-test
   * (see {@link #selfTest}).
   */
  static Map<WrapMechanism, MechanismCapability> supportedBy(Pkcs11Token token)
      throws HsmException {
    return selfTest(token, discover(token));
  }

  private static Map<WrapMechanism, MechanismCapability> discover(Pkcs11Token token) {
    Map<Long, MechanismInfo> offered = new LinkedHashMap<>();
    for (long code : token.token().getMechanismList()) {
      MechanismInfo info = token.token().getMechanismInfo(code);
      if (info != null) {
        offered.put(code, info);
      }
    }
    Map<WrapMechanism, MechanismCapability> found = new EnumMap<>(WrapMechanism.class);
    keyWrap(offered, CKM_AES_KEY_WRAP_KWP, "CKM_AES_KEY_WRAP_KWP")
        .or(() -> keyWrap(offered, CKM_AES_KEY_WRAP_PAD, "CKM_AES_KEY_WRAP_PAD"))
        .ifPresent(capability -> found.put(WrapMechanism.AES_KEY_WRAP_PAD, capability));
    keyWrap(offered, CKM_AES_KEY_WRAP, "CKM_AES_KEY_WRAP")
        .ifPresent(capability -> found.put(WrapMechanism.AES_KEY_WRAP, capability));
    MechanismInfo gcm = offered.get(CKM_AES_GCM);
    if (gcm != null && gcm.hasFlagBit(CKF_ENCRYPT) && gcm.hasFlagBit(CKF_DECRYPT)) {
      found.put(
          WrapMechanism.AES_GCM,
          new MechanismCapability(CKM_AES_GCM, "CKM_AES_GCM", false, true, true));
    }
    return found;
  }

  private static Optional<MechanismCapability> keyWrap(
      Map<Long, MechanismInfo> offered, long code, String name) {
    MechanismInfo info = offered.get(code);
    if (info == null) {
      return Optional.empty();
    }
    boolean wrapKey = info.hasFlagBit(CKF_WRAP);
    boolean encrypt = info.hasFlagBit(CKF_ENCRYPT);
    boolean unwrapKey = info.hasFlagBit(CKF_UNWRAP);
    boolean decrypt = info.hasFlagBit(CKF_DECRYPT);
    if (!(wrapKey || encrypt) || !(unwrapKey || decrypt)) {
      return Optional.empty();
    }
    return Optional.of(new MechanismCapability(code, name, wrapKey, decrypt, true));
  }

  /**
   * Keeps the mechanisms whose output the JDK reads back (see {@link MechanismSelfTest}). If the
   * module will not run the test (some refuse to import a known-value key), the mechanism is kept
   * for keys of 8-byte multiples.
   */
  private static Map<WrapMechanism, MechanismCapability> selfTest(
      Pkcs11Token token, Map<WrapMechanism, MechanismCapability> offered) throws HsmException {
    Map<WrapMechanism, MechanismCapability> kept = new EnumMap<>(WrapMechanism.class);
    Session session = token.openSession();
    try {
      for (Map.Entry<WrapMechanism, MechanismCapability> entry : offered.entrySet()) {
        WrapMechanism mechanism = entry.getKey();
        MechanismCapability capability = entry.getValue();
        MechanismSelfTest.Outcome outcome;
        try {
          outcome =
              MechanismSelfTest.run(session, mechanism, capability.code(), capability.wrapKey());
        } catch (PKCS11Exception e) {
          LOG.warn(
              "{}: could not self-test {} ({}); using it for keys of 8-byte multiples only",
              token.locator(),
              capability.name(),
              Pkcs11Errors.name(e));
          outcome = MechanismSelfTest.Outcome.MULTIPLES_OF_8_ONLY;
        }
        switch (outcome) {
          case EXACT -> kept.put(mechanism, capability);
          case MULTIPLES_OF_8_ONLY -> kept.put(mechanism, capability.withAnyLength(false));
          default ->
              LOG.warn(
                  "{}: {} does not produce the standard format for {}; not using it",
                  token.locator(),
                  capability.name(),
                  mechanism);
        }
      }
    } finally {
      Pkcs11Token.closeQuietly(session);
    }
    return kept;
  }
}
