package io.keyrotor.hsm.pkcs11;

import static io.keyrotor.hsm.HsmTesting.randomKey;
import static io.keyrotor.hsm.HsmTesting.reasonOf;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.EXTRACT;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.SHARE_FROM;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.SHARE_TO;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.SO_PIN;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.USER_PIN;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.config;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_EXTRACTABLE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_NEVER_EXTRACTABLE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_SENSITIVE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_VALUE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKA_WRAP_WITH_TRUSTED;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_GEN;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP_PAD;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_KEY_NOT_WRAPPABLE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_KEY_UNEXTRACTABLE;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.HsmException.Reason;
import io.keyrotor.hsm.Hsms;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.ZoneMasterKeyId;
import io.keyrotor.hsm.ZoneMasterKeys;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

class Pkcs11CeremoniesTest {

  @BeforeAll
  static void tokens() {
    SoftHsmFixture.start();
  }

  @Test
  void shareZone_receiverHoldsTheSameKeyAndUnwrapsWhatTheSenderWrapped() throws Exception {
    int version = Pkcs11Ceremonies.createZone(token(SHARE_FROM), USER_PIN, "eu");
    try (Hsm sender = Hsms.open(config(SHARE_FROM))) {
      // The sender's HSM stays open through the ceremony, whose SO login logs its user out.
      SecretKeyBytes kek = randomKey(32);
      WrappedKey wrapped = sender.wrap("eu", kek);

      String shared =
          Pkcs11Ceremonies.shareZone(
              token(SHARE_FROM), SO_PIN, USER_PIN, token(SHARE_TO), USER_PIN, "eu", version);

      assertEquals(
          Pkcs11Ceremonies.keyCheckValue(token(SHARE_FROM), USER_PIN, "eu", version), shared);
      assertEquals(
          Pkcs11Ceremonies.keyCheckValue(token(SHARE_TO), USER_PIN, "eu", version), shared);
      try (Hsm receiver = Hsms.open(config(SHARE_TO))) {
        assertEquals(kek, receiver.unwrap(wrapped));
        assertEquals(kek, sender.unwrap(receiver.wrap("eu", kek)));
        assertEquals(shared, receiver.keyCheckValue("eu", version));
      }
    }
  }

  @Test
  void shareSteps_throughTheirTextForms_giveMatchingCheckValuesAndANonExtractableCopy()
      throws Exception {
    int version = Pkcs11Ceremonies.createZone(token(SHARE_FROM), USER_PIN, "us");

    ShareRequest request =
        ShareRequest.decode(
            Pkcs11Ceremonies.prepareShare(token(SHARE_TO), USER_PIN, "us", version).encode());
    ShareBundle bundle =
        ShareBundle.decode(
            Pkcs11Ceremonies.exportShare(token(SHARE_FROM), SO_PIN, USER_PIN, request).encode());
    String receiverCheckValue = Pkcs11Ceremonies.importShare(token(SHARE_TO), USER_PIN, bundle);

    assertEquals(bundle.senderCheckValue(), receiverCheckValue);
    assertTrue(Set.of("SHA-256", "SHA-1").contains(bundle.oaepHash()), bundle.oaepHash());
    AttributeVector copy = zoneMasterKeyAttributes(SHARE_TO, new ZoneMasterKeyId("us", version));
    assertEquals(false, copy.extractable());
    assertEquals(true, copy.sensitive());
    // A second import of the same bundle changes nothing.
    assertEquals(
        receiverCheckValue, Pkcs11Ceremonies.importShare(token(SHARE_TO), USER_PIN, bundle));
  }

  /** A new zone on SHARE_FROM, shared as far as its bundle for SHARE_TO. */
  private static ShareBundle exportedNewZone(String zone) throws HsmException {
    int version = Pkcs11Ceremonies.createZone(token(SHARE_FROM), USER_PIN, zone);
    ShareRequest request = Pkcs11Ceremonies.prepareShare(token(SHARE_TO), USER_PIN, zone, version);
    return Pkcs11Ceremonies.exportShare(token(SHARE_FROM), SO_PIN, USER_PIN, request);
  }

  @Test
  void importShare_tamperedBundle_failsWithUnwrapFailedAndKeepsNothing() throws Exception {
    ShareBundle bundle = exportedNewZone("tamper");
    byte[] wrapped = bundle.wrappedKey();
    wrapped[10] ^= 0x01;
    ShareBundle tampered =
        new ShareBundle(
            bundle.zoneMasterKey(),
            bundle.keyId(),
            bundle.oaepHash(),
            wrapped,
            bundle.senderCheckValue());

    assertEquals(
        Reason.UNWRAP_FAILED,
        reasonOf(() -> Pkcs11Ceremonies.importShare(token(SHARE_TO), USER_PIN, tampered)));
    SortedSet<Integer> held = Pkcs11Ceremonies.listZones(token(SHARE_TO), USER_PIN).get("tamper");
    assertNull(held);
  }

  @Test
  void importShare_withoutPrepare_isRefused() throws Exception {
    ShareBundle bundle = exportedNewZone("unasked");
    ShareBundle otherKeyId =
        new ShareBundle(
            bundle.zoneMasterKey(),
            new byte[16],
            bundle.oaepHash(),
            bundle.wrappedKey(),
            bundle.senderCheckValue());

    assertEquals(
        Reason.REFUSED,
        reasonOf(() -> Pkcs11Ceremonies.importShare(token(SHARE_TO), USER_PIN, otherKeyId)));
  }

  @Test
  void exportShare_wrongSecurityOfficerPin_failsWithHsmUnavailable() throws Exception {
    int version = Pkcs11Ceremonies.createZone(token(SHARE_FROM), USER_PIN, "so-pin");
    ShareRequest request =
        Pkcs11Ceremonies.prepareShare(token(SHARE_TO), USER_PIN, "so-pin", version);

    HsmException e =
        assertThrows(
            HsmException.class,
            () ->
                Pkcs11Ceremonies.exportShare(
                    token(SHARE_FROM), "wrong-so-pin".toCharArray(), USER_PIN, request));

    assertEquals(Reason.HSM_UNAVAILABLE, e.reason());
    assertTrue(e.getMessage().contains("security officer PIN is wrong"), e.getMessage());
  }

  @Test
  void zoneMasterKey_valueCannotBeRead() throws Exception {
    int version = Pkcs11Ceremonies.createZone(token(EXTRACT), USER_PIN, "eu");

    AttributeVector attributes =
        zoneMasterKeyAttributes(EXTRACT, new ZoneMasterKeyId("eu", version));

    assertNull(attributes.value(), "CKA_VALUE of a zone master key must be unreadable");
    assertTrue(attributes.getAttribute(CKA_VALUE).isSensitive(), "CKR_ATTRIBUTE_SENSITIVE");
    assertEquals(true, attributes.sensitive());
    assertEquals(true, attributes.wrapWithTrusted());
  }

  @Test
  void zoneMasterKey_cannotBeWrappedOutWithASessionKey() throws Exception {
    int shareable = Pkcs11Ceremonies.createZone(token(EXTRACT), USER_PIN, "out");
    int sealed =
        Pkcs11Ceremonies.createZone(token(EXTRACT), USER_PIN, "out", ZoneMasterKeyExport.NEVER);

    long shareableError = wrapOutWithSessionKey(new ZoneMasterKeyId("out", shareable));
    long sealedError = wrapOutWithSessionKey(new ZoneMasterKeyId("out", sealed));

    assertEquals(CKR_KEY_NOT_WRAPPABLE, shareableError, "only trusted keys may wrap it");
    assertEquals(CKR_KEY_UNEXTRACTABLE, sealedError, "nothing may wrap it");
  }

  @Test
  void exportShare_ofANeverExportableKey_isRefused() throws Exception {
    int version =
        Pkcs11Ceremonies.createZone(token(EXTRACT), USER_PIN, "sealed", ZoneMasterKeyExport.NEVER);
    ShareRequest request =
        Pkcs11Ceremonies.prepareShare(token(SHARE_TO), USER_PIN, "sealed", version);

    assertEquals(
        Reason.REFUSED,
        reasonOf(() -> Pkcs11Ceremonies.exportShare(token(EXTRACT), SO_PIN, USER_PIN, request)));
  }

  @Test
  void createZone_addsVersionsAndListZonesShowsThem() throws Exception {
    assertEquals(1, Pkcs11Ceremonies.createZone(token(EXTRACT), USER_PIN, "listed"));
    assertEquals(2, Pkcs11Ceremonies.createZone(token(EXTRACT), USER_PIN, "listed"));

    Map<String, SortedSet<Integer>> zones = Pkcs11Ceremonies.listZones(token(EXTRACT), USER_PIN);

    assertEquals(Set.of(1, 2), zones.get("listed"));
    assertEquals(
        Reason.INVALID_REQUEST,
        reasonOf(() -> Pkcs11Ceremonies.createZone(token(EXTRACT), USER_PIN, "Not/Valid")));
  }

  @Test
  void importKnownValue_withoutTheTestFlag_isRefused() {
    HsmException e =
        assertThrows(
            HsmException.class,
            () ->
                Pkcs11Ceremonies.importKnownValue(
                    token(EXTRACT), USER_PIN, "known", 1, randomKey(32)));

    assertEquals(Reason.REFUSED, e.reason());
    assertTrue(e.getMessage().contains("keyrotor.hsm.allowKnownValueImport"), e.getMessage());
  }

  @Test
  void initToken_existingLabel_isRefused() {
    assertEquals(
        Reason.REFUSED,
        reasonOf(() -> Pkcs11Ceremonies.initToken(token(EXTRACT), SO_PIN, USER_PIN)));
  }

  private static AttributeVector zoneMasterKeyAttributes(String label, ZoneMasterKeyId id)
      throws Exception {
    Pkcs11Token token = Pkcs11Token.find(token(label));
    Session session = token.openSession();
    try {
      token.loginUser(session, USER_PIN);
      long handle = ZoneKeyObjects.find(session, token(label), id);
      return session.getAttrValues(
          handle,
          CKA_VALUE,
          CKA_SENSITIVE,
          CKA_EXTRACTABLE,
          CKA_NEVER_EXTRACTABLE,
          CKA_WRAP_WITH_TRUSTED);
    } finally {
      Pkcs11Token.closeQuietly(session);
    }
  }

  /** Tries C_WrapKey of the ZMK under a fresh AES session key; returns the PKCS#11 error. */
  private static long wrapOutWithSessionKey(ZoneMasterKeyId id) throws Exception {
    Pkcs11Token token = Pkcs11Token.find(token(EXTRACT));
    Session session = token.openSession();
    try {
      token.loginUser(session, USER_PIN);
      long zoneMasterKey = ZoneKeyObjects.find(session, token(EXTRACT), id);
      long wrappingKey =
          session.generateKey(
              new Mechanism(CKM_AES_KEY_GEN),
              AttributeVector.newAESSecretKey()
                  .token(false)
                  .valueLen(ZoneMasterKeys.KEY_LENGTH_BYTES)
                  .wrap(true)
                  .unwrap(true));
      PKCS11Exception e =
          assertThrows(
              PKCS11Exception.class,
              () ->
                  session.wrapKey(new Mechanism(CKM_AES_KEY_WRAP_PAD), wrappingKey, zoneMasterKey));
      assertFalse(e.getErrorCode() == 0);
      return e.getErrorCode();
    } finally {
      Pkcs11Token.closeQuietly(session);
    }
  }
}
